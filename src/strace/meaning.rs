//! One-line meanings of the Linux x86_64 system calls and of errno names,
//! written for this project in plain words (not taken from the manual
//! pages), for a reader who wants to know what a call is for.

use std::collections::HashMap;
use std::sync::OnceLock;

/// `(name, meaning)` for every x86_64 syscall, in syscall-number order.
pub static SYSCALLS: &[(&str, &str)] = &[
    ("read", "Read bytes from a file descriptor into a buffer"),
    ("write", "Write bytes from a buffer to a file descriptor"),
    (
        "open",
        "Open a file by path and get a file descriptor (old form; glibc uses openat)",
    ),
    ("close", "Release a file descriptor"),
    (
        "stat",
        "Get a file's metadata (size, mode, times) by path, following symlinks",
    ),
    (
        "fstat",
        "Get the metadata of an already open file descriptor",
    ),
    (
        "lstat",
        "Get a path's metadata without following a final symlink",
    ),
    (
        "poll",
        "Wait until one of several file descriptors is ready, or a timeout",
    ),
    ("lseek", "Move the read/write offset of an open file"),
    (
        "mmap",
        "Map a file or anonymous memory into the address space",
    ),
    (
        "mprotect",
        "Change the access rights (read/write/exec) of a memory range",
    ),
    ("munmap", "Remove a memory mapping"),
    ("brk", "Grow or shrink the heap end (classic malloc arena)"),
    ("rt_sigaction", "Install or query the handler for a signal"),
    (
        "rt_sigprocmask",
        "Block, unblock or query the set of blocked signals",
    ),
    (
        "rt_sigreturn",
        "Return from a signal handler to the interrupted code",
    ),
    (
        "ioctl",
        "Device- or file-specific control request (terminals, sockets, drivers)",
    ),
    (
        "pread64",
        "Read from a given file offset without moving the file position",
    ),
    (
        "pwrite64",
        "Write at a given file offset without moving the file position",
    ),
    ("readv", "Read into several buffers in one call"),
    ("writev", "Write from several buffers in one call"),
    (
        "access",
        "Check whether the caller may read, write or execute a path (or if it exists)",
    ),
    ("pipe", "Create a one-way pipe: a read end and a write end"),
    (
        "select",
        "Wait until file descriptors in fixed-size sets are ready, or a timeout",
    ),
    (
        "sched_yield",
        "Give up the CPU so another runnable thread can go",
    ),
    ("mremap", "Resize or move an existing memory mapping"),
    (
        "msync",
        "Flush changes in a file-backed mapping to the file",
    ),
    (
        "mincore",
        "Ask which pages of a mapping are resident in RAM",
    ),
    (
        "madvise",
        "Hint the kernel about how a memory range will be used (or free it)",
    ),
    (
        "shmget",
        "Create or look up a System V shared memory segment",
    ),
    (
        "shmat",
        "Attach a System V shared memory segment to the address space",
    ),
    (
        "shmctl",
        "Query, change or remove a System V shared memory segment",
    ),
    (
        "dup",
        "Duplicate a file descriptor onto the lowest free number",
    ),
    ("dup2", "Duplicate a file descriptor onto a chosen number"),
    ("pause", "Sleep until any signal arrives"),
    ("nanosleep", "Sleep for a relative amount of time"),
    ("getitimer", "Read the current value of an interval timer"),
    ("alarm", "Schedule a SIGALRM after some seconds"),
    (
        "setitimer",
        "Arm or disarm an interval timer that sends a signal",
    ),
    ("getpid", "Get the caller's process id"),
    (
        "sendfile",
        "Copy data between two descriptors inside the kernel (e.g. file to socket)",
    ),
    ("socket", "Create a network or local communication endpoint"),
    (
        "connect",
        "Connect a socket to a remote address (may block until the peer answers)",
    ),
    (
        "accept",
        "Take the next incoming connection from a listening socket",
    ),
    (
        "sendto",
        "Send a message on a socket, optionally to a given address",
    ),
    (
        "recvfrom",
        "Receive a message from a socket, and who sent it",
    ),
    (
        "sendmsg",
        "Send a message with scatter buffers and ancillary data on a socket",
    ),
    (
        "recvmsg",
        "Receive a message with scatter buffers and ancillary data from a socket",
    ),
    (
        "shutdown",
        "Close one or both directions of a socket connection",
    ),
    (
        "bind",
        "Give a socket a local address (e.g. the port to listen on)",
    ),
    ("listen", "Mark a socket as accepting incoming connections"),
    ("getsockname", "Get the local address a socket is bound to"),
    (
        "getpeername",
        "Get the address of the peer a socket is connected to",
    ),
    ("socketpair", "Create a pair of connected local sockets"),
    (
        "setsockopt",
        "Set an option on a socket (timeouts, buffer sizes, flags)",
    ),
    (
        "getsockopt",
        "Read an option of a socket (often a pending connect error)",
    ),
    (
        "clone",
        "Create a new process or thread, choosing what it shares with the caller",
    ),
    ("fork", "Create a child process as a copy of the caller"),
    (
        "vfork",
        "Create a child that borrows the caller's memory until it execs or exits",
    ),
    (
        "execve",
        "Replace the running program with a new one from a path, with argv and env",
    ),
    ("exit", "End the calling thread"),
    (
        "wait4",
        "Wait for a child process to change state and collect its status and usage",
    ),
    ("kill", "Send a signal to a process or process group"),
    (
        "uname",
        "Get the kernel name, release, version and machine type",
    ),
    ("semget", "Create or look up a System V semaphore set"),
    ("semop", "Operate on System V semaphores (may block)"),
    ("semctl", "Query, set or remove System V semaphores"),
    ("shmdt", "Detach a System V shared memory segment"),
    ("msgget", "Create or look up a System V message queue"),
    ("msgsnd", "Put a message on a System V message queue"),
    (
        "msgrcv",
        "Take a message from a System V message queue (may block)",
    ),
    ("msgctl", "Query, change or remove a System V message queue"),
    (
        "fcntl",
        "Control an open descriptor: flags, locks, duplication, close-on-exec",
    ),
    (
        "flock",
        "Take or release an advisory lock on a whole open file",
    ),
    (
        "fsync",
        "Wait until a file's data and metadata are on stable storage",
    ),
    (
        "fdatasync",
        "Wait until a file's data (not all metadata) is on stable storage",
    ),
    ("truncate", "Set the length of a file given by path"),
    ("ftruncate", "Set the length of an open file"),
    (
        "getdents",
        "Read directory entries from an open directory (old layout)",
    ),
    ("getcwd", "Get the current working directory"),
    ("chdir", "Change the current working directory by path"),
    (
        "fchdir",
        "Change the current working directory to an open directory",
    ),
    ("rename", "Rename or move a file, replacing the target"),
    ("mkdir", "Create a directory"),
    ("rmdir", "Remove an empty directory"),
    (
        "creat",
        "Create (or truncate) a file and open it for writing",
    ),
    (
        "link",
        "Give an existing file an additional name (hard link)",
    ),
    (
        "unlink",
        "Remove a name from the filesystem (delete a file)",
    ),
    ("symlink", "Create a symbolic link pointing at a path"),
    ("readlink", "Read the target a symbolic link points at"),
    ("chmod", "Change a file's permission bits by path"),
    ("fchmod", "Change the permission bits of an open file"),
    ("chown", "Change a file's owner and group by path"),
    ("fchown", "Change the owner and group of an open file"),
    ("lchown", "Change owner and group of a symlink itself"),
    (
        "umask",
        "Set the mask that strips permission bits from newly created files",
    ),
    (
        "gettimeofday",
        "Get the wall-clock time in seconds and microseconds",
    ),
    (
        "getrlimit",
        "Read a resource limit (open files, stack size, ...)",
    ),
    (
        "getrusage",
        "Get CPU time and other resource usage of the caller or its children",
    ),
    (
        "sysinfo",
        "Get overall system statistics: uptime, load, memory, processes",
    ),
    (
        "times",
        "Get user and system CPU time of the process and its children",
    ),
    (
        "ptrace",
        "Observe and control another process (what debuggers and strace use)",
    ),
    ("getuid", "Get the real user id"),
    ("syslog", "Read or control the kernel message ring buffer"),
    ("getgid", "Get the real group id"),
    ("setuid", "Change the user id"),
    ("setgid", "Change the group id"),
    (
        "geteuid",
        "Get the effective user id (used for permission checks)",
    ),
    ("getegid", "Get the effective group id"),
    ("setpgid", "Move a process into a process group"),
    ("getppid", "Get the parent's process id"),
    ("getpgrp", "Get the caller's process group"),
    (
        "setsid",
        "Start a new session, detaching from the controlling terminal",
    ),
    ("setreuid", "Set the real and effective user ids"),
    ("setregid", "Set the real and effective group ids"),
    ("getgroups", "List the supplementary groups of the caller"),
    ("setgroups", "Set the supplementary groups of the caller"),
    ("setresuid", "Set the real, effective and saved user ids"),
    ("getresuid", "Get the real, effective and saved user ids"),
    ("setresgid", "Set the real, effective and saved group ids"),
    ("getresgid", "Get the real, effective and saved group ids"),
    ("getpgid", "Get the process group of a process"),
    ("setfsuid", "Set the user id used for filesystem checks"),
    ("setfsgid", "Set the group id used for filesystem checks"),
    ("getsid", "Get the session id of a process"),
    ("capget", "Read a thread's capability sets"),
    ("capset", "Change a thread's capability sets"),
    ("rt_sigpending", "List signals that are raised but blocked"),
    (
        "rt_sigtimedwait",
        "Wait for one of a set of signals, with a timeout",
    ),
    ("rt_sigqueueinfo", "Queue a signal with data to a process"),
    (
        "rt_sigsuspend",
        "Swap the signal mask and sleep until a signal arrives",
    ),
    (
        "sigaltstack",
        "Set or query the alternate stack used by signal handlers",
    ),
    (
        "utime",
        "Set a file's access and modification times (seconds)",
    ),
    ("mknod", "Create a device node, FIFO or plain file"),
    ("uselib", "Load a shared library (obsolete)"),
    (
        "personality",
        "Set the execution domain (e.g. disable address randomisation)",
    ),
    ("ustat", "Get filesystem statistics by device (obsolete)"),
    (
        "statfs",
        "Get statistics of the filesystem holding a path (free space, type)",
    ),
    (
        "fstatfs",
        "Get statistics of the filesystem holding an open file",
    ),
    ("sysfs", "Query the list of filesystem types (obsolete)"),
    (
        "getpriority",
        "Get the nice value of a process, group or user",
    ),
    (
        "setpriority",
        "Set the nice value of a process, group or user",
    ),
    ("sched_setparam", "Set a thread's scheduling priority"),
    ("sched_getparam", "Get a thread's scheduling priority"),
    (
        "sched_setscheduler",
        "Set a thread's scheduling policy and priority",
    ),
    ("sched_getscheduler", "Get a thread's scheduling policy"),
    (
        "sched_get_priority_max",
        "Highest priority allowed for a scheduling policy",
    ),
    (
        "sched_get_priority_min",
        "Lowest priority allowed for a scheduling policy",
    ),
    (
        "sched_rr_get_interval",
        "Get the round-robin time slice of a thread",
    ),
    ("mlock", "Pin a memory range in RAM so it is never swapped"),
    ("munlock", "Allow a pinned memory range to be swapped again"),
    ("mlockall", "Pin all of the process's memory in RAM"),
    ("munlockall", "Unpin all of the process's memory"),
    ("vhangup", "Simulate a hangup on the current terminal"),
    (
        "modify_ldt",
        "Read or change the local descriptor table (x86 segments)",
    ),
    ("pivot_root", "Swap the root filesystem for another mount"),
    (
        "_sysctl",
        "Read or write kernel parameters (removed; use /proc/sys)",
    ),
    (
        "prctl",
        "Per-process settings: name, death signal, no-new-privs, seccomp, ...",
    ),
    (
        "arch_prctl",
        "Set architecture-specific thread state (x86_64 FS/GS base for TLS)",
    ),
    ("adjtimex", "Tune or read the kernel clock discipline (NTP)"),
    ("setrlimit", "Change a resource limit"),
    ("chroot", "Change the root directory seen by the process"),
    ("sync", "Flush all filesystem buffers to disk"),
    ("acct", "Switch process accounting on or off"),
    ("settimeofday", "Set the wall-clock time"),
    (
        "mount",
        "Attach a filesystem (or bind, remount) at a directory",
    ),
    ("umount2", "Detach a mounted filesystem"),
    ("swapon", "Start using a file or device as swap"),
    ("swapoff", "Stop using a file or device as swap"),
    ("reboot", "Reboot, halt or power off the machine"),
    ("sethostname", "Set the host name"),
    ("setdomainname", "Set the NIS domain name"),
    ("iopl", "Change the I/O privilege level (x86 port access)"),
    ("ioperm", "Allow access to ranges of x86 I/O ports"),
    (
        "create_module",
        "Allocate space for a kernel module (removed)",
    ),
    ("init_module", "Load a kernel module from memory"),
    ("delete_module", "Unload a kernel module"),
    ("get_kernel_syms", "List kernel symbols (removed)"),
    ("query_module", "Ask about loaded modules (removed)"),
    ("quotactl", "Manage disk quotas"),
    ("nfsservctl", "Control the kernel NFS server (removed)"),
    ("getpmsg", "STREAMS receive (not implemented on Linux)"),
    ("putpmsg", "STREAMS send (not implemented on Linux)"),
    ("afs_syscall", "Reserved for AFS (not implemented)"),
    (
        "tuxcall",
        "Reserved for the TUX web server (not implemented)",
    ),
    (
        "security",
        "Reserved for security modules (not implemented)",
    ),
    ("gettid", "Get the caller's thread id"),
    (
        "readahead",
        "Ask the kernel to load part of a file into the page cache ahead of use",
    ),
    ("setxattr", "Set an extended attribute of a file by path"),
    ("lsetxattr", "Set an extended attribute of a symlink itself"),
    ("fsetxattr", "Set an extended attribute of an open file"),
    ("getxattr", "Read an extended attribute of a file by path"),
    (
        "lgetxattr",
        "Read an extended attribute of a symlink itself",
    ),
    ("fgetxattr", "Read an extended attribute of an open file"),
    (
        "listxattr",
        "List the extended attribute names of a file by path",
    ),
    (
        "llistxattr",
        "List the extended attribute names of a symlink itself",
    ),
    (
        "flistxattr",
        "List the extended attribute names of an open file",
    ),
    (
        "removexattr",
        "Delete an extended attribute of a file by path",
    ),
    (
        "lremovexattr",
        "Delete an extended attribute of a symlink itself",
    ),
    (
        "fremovexattr",
        "Delete an extended attribute of an open file",
    ),
    ("tkill", "Send a signal to one thread (old form of tgkill)"),
    ("time", "Get the time in whole seconds since the epoch"),
    (
        "futex",
        "Wait on or wake threads blocked on a memory word (locks, condition variables, joins)",
    ),
    (
        "sched_setaffinity",
        "Restrict which CPUs a thread may run on",
    ),
    (
        "sched_getaffinity",
        "Get the set of CPUs a thread may run on",
    ),
    (
        "set_thread_area",
        "Set a thread-local storage segment (32-bit x86)",
    ),
    ("io_setup", "Create a kernel asynchronous I/O context"),
    ("io_destroy", "Tear down an asynchronous I/O context"),
    (
        "io_getevents",
        "Wait for completed asynchronous I/O operations",
    ),
    ("io_submit", "Queue asynchronous I/O operations"),
    ("io_cancel", "Cancel a queued asynchronous I/O operation"),
    (
        "get_thread_area",
        "Read a thread-local storage segment (32-bit x86)",
    ),
    (
        "lookup_dcookie",
        "Turn a directory-entry cookie into a path (profilers)",
    ),
    (
        "epoll_create",
        "Create an epoll instance for watching many descriptors",
    ),
    ("epoll_ctl_old", "Old epoll control call (unused)"),
    ("epoll_wait_old", "Old epoll wait call (unused)"),
    (
        "remap_file_pages",
        "Rearrange pages inside a shared file mapping (deprecated)",
    ),
    (
        "getdents64",
        "Read directory entries from an open directory (what ls and readdir use)",
    ),
    (
        "set_tid_address",
        "Tell the kernel where to clear the thread id when the thread exits",
    ),
    (
        "restart_syscall",
        "Resume a sleep or wait that a signal interrupted",
    ),
    (
        "semtimedop",
        "Operate on System V semaphores with a timeout",
    ),
    (
        "fadvise64",
        "Tell the kernel how a file will be read (sequential, random, not needed)",
    ),
    ("timer_create", "Create a POSIX per-process timer"),
    ("timer_settime", "Arm or disarm a POSIX timer"),
    ("timer_gettime", "Read the time left on a POSIX timer"),
    (
        "timer_getoverrun",
        "Count expirations of a POSIX timer that were missed",
    ),
    ("timer_delete", "Delete a POSIX timer"),
    ("clock_settime", "Set a clock"),
    ("clock_gettime", "Read a clock (wall, monotonic, CPU time)"),
    ("clock_getres", "Get the resolution of a clock"),
    (
        "clock_nanosleep",
        "Sleep for a while, or until a time, on a chosen clock",
    ),
    (
        "exit_group",
        "End the whole process (all threads) with an exit status",
    ),
    (
        "epoll_wait",
        "Wait for events on the descriptors an epoll instance watches",
    ),
    (
        "epoll_ctl",
        "Add, change or remove a descriptor in an epoll instance",
    ),
    ("tgkill", "Send a signal to one thread of a process"),
    (
        "utimes",
        "Set a file's access and modification times (microseconds)",
    ),
    ("vserver", "Reserved for Linux-VServer (not implemented)"),
    ("mbind", "Set the NUMA memory policy of a memory range"),
    (
        "set_mempolicy",
        "Set the default NUMA memory policy of a thread",
    ),
    ("get_mempolicy", "Get the NUMA memory policy"),
    ("mq_open", "Open or create a POSIX message queue"),
    ("mq_unlink", "Remove a POSIX message queue"),
    (
        "mq_timedsend",
        "Send to a POSIX message queue, waiting at most until a time",
    ),
    (
        "mq_timedreceive",
        "Receive from a POSIX message queue, waiting at most until a time",
    ),
    (
        "mq_notify",
        "Ask to be notified when a message arrives on a POSIX queue",
    ),
    (
        "mq_getsetattr",
        "Read or change the attributes of a POSIX message queue",
    ),
    ("kexec_load", "Load a new kernel to boot into directly"),
    (
        "waitid",
        "Wait for a child to change state, with finer control than wait4",
    ),
    ("add_key", "Add a key to a kernel keyring"),
    (
        "request_key",
        "Look up a key in the keyrings, possibly asking user space to make it",
    ),
    ("keyctl", "Manage kernel keys and keyrings"),
    ("ioprio_set", "Set the I/O scheduling priority"),
    ("ioprio_get", "Get the I/O scheduling priority"),
    (
        "inotify_init",
        "Create an inotify instance for file change notifications",
    ),
    ("inotify_add_watch", "Start watching a path for changes"),
    ("inotify_rm_watch", "Stop watching a path"),
    ("migrate_pages", "Move a process's pages between NUMA nodes"),
    (
        "openat",
        "Open a file by path, relative to a directory fd, and get a file descriptor",
    ),
    ("mkdirat", "Create a directory relative to a directory fd"),
    (
        "mknodat",
        "Create a device node or FIFO relative to a directory fd",
    ),
    (
        "fchownat",
        "Change owner and group of a path relative to a directory fd",
    ),
    (
        "futimesat",
        "Set file times of a path relative to a directory fd (obsolete)",
    ),
    (
        "newfstatat",
        "Get a file's metadata by path relative to a directory fd (or of an fd itself)",
    ),
    (
        "unlinkat",
        "Delete a file or empty directory relative to a directory fd",
    ),
    (
        "renameat",
        "Rename a path, both names relative to directory fds",
    ),
    (
        "linkat",
        "Make a hard link, names relative to directory fds",
    ),
    (
        "symlinkat",
        "Create a symbolic link relative to a directory fd",
    ),
    (
        "readlinkat",
        "Read a symlink's target, path relative to a directory fd",
    ),
    (
        "fchmodat",
        "Change permission bits of a path relative to a directory fd",
    ),
    (
        "faccessat",
        "Check access to a path relative to a directory fd",
    ),
    (
        "pselect6",
        "select() with a precise timeout and a signal mask swapped in while waiting",
    ),
    (
        "ppoll",
        "poll() with a precise timeout and a signal mask swapped in while waiting",
    ),
    (
        "unshare",
        "Move the caller into new namespaces or stop sharing resources",
    ),
    (
        "set_robust_list",
        "Register the list of futex locks to release if the thread dies",
    ),
    ("get_robust_list", "Read a thread's robust futex list"),
    (
        "splice",
        "Move data between a pipe and another descriptor without copying to user space",
    ),
    (
        "tee",
        "Duplicate data from one pipe to another without consuming it",
    ),
    (
        "sync_file_range",
        "Start or wait for writeback of part of a file",
    ),
    ("vmsplice", "Splice user memory into a pipe"),
    ("move_pages", "Move individual pages to other NUMA nodes"),
    (
        "utimensat",
        "Set file times with nanoseconds, path relative to a directory fd",
    ),
    (
        "epoll_pwait",
        "epoll_wait with a signal mask swapped in while waiting",
    ),
    (
        "signalfd",
        "Create a descriptor that delivers signals as readable data",
    ),
    (
        "timerfd_create",
        "Create a timer that is read through a file descriptor",
    ),
    (
        "eventfd",
        "Create a descriptor used as an event counter between threads or processes",
    ),
    ("fallocate", "Reserve or punch holes in a file's disk space"),
    ("timerfd_settime", "Arm or disarm a timerfd"),
    ("timerfd_gettime", "Read the time left on a timerfd"),
    (
        "accept4",
        "Take the next incoming connection, setting flags on the new socket",
    ),
    (
        "signalfd4",
        "Create or change a signal descriptor, with flags",
    ),
    ("eventfd2", "Create an event counter descriptor, with flags"),
    ("epoll_create1", "Create an epoll instance, with flags"),
    (
        "dup3",
        "Duplicate a descriptor onto a chosen number, with flags",
    ),
    ("pipe2", "Create a pipe, with flags such as close-on-exec"),
    ("inotify_init1", "Create an inotify instance, with flags"),
    (
        "preadv",
        "Read into several buffers from a given file offset",
    ),
    (
        "pwritev",
        "Write from several buffers at a given file offset",
    ),
    (
        "rt_tgsigqueueinfo",
        "Queue a signal with data to one thread",
    ),
    (
        "perf_event_open",
        "Open a performance counter or tracing event",
    ),
    (
        "recvmmsg",
        "Receive several messages from a socket in one call",
    ),
    (
        "fanotify_init",
        "Create a filesystem-wide notification group",
    ),
    ("fanotify_mark", "Choose what a fanotify group watches"),
    (
        "prlimit64",
        "Read and/or set a resource limit of any process",
    ),
    (
        "name_to_handle_at",
        "Turn a path into a persistent file handle",
    ),
    (
        "open_by_handle_at",
        "Open a file from a persistent file handle",
    ),
    ("clock_adjtime", "Tune or read a clock's discipline"),
    (
        "syncfs",
        "Flush the filesystem holding a descriptor to disk",
    ),
    ("sendmmsg", "Send several messages on a socket in one call"),
    ("setns", "Join an existing namespace through a descriptor"),
    ("getcpu", "Get the CPU and NUMA node the caller runs on"),
    ("process_vm_readv", "Read another process's memory directly"),
    (
        "process_vm_writev",
        "Write another process's memory directly",
    ),
    (
        "kcmp",
        "Compare whether two processes share a kernel resource",
    ),
    (
        "finit_module",
        "Load a kernel module from a file descriptor",
    ),
    (
        "sched_setattr",
        "Set a thread's scheduling policy and attributes",
    ),
    (
        "sched_getattr",
        "Get a thread's scheduling policy and attributes",
    ),
    (
        "renameat2",
        "Rename relative to directory fds, with flags such as no-replace or exchange",
    ),
    (
        "seccomp",
        "Install a filter restricting which system calls may be made",
    ),
    ("getrandom", "Get random bytes from the kernel"),
    (
        "memfd_create",
        "Create an anonymous file that lives in memory",
    ),
    (
        "kexec_file_load",
        "Load a new kernel from a file to boot into directly",
    ),
    ("bpf", "Load or manage eBPF programs and maps"),
    (
        "execveat",
        "Run a new program given by a directory fd and path (or an fd)",
    ),
    (
        "userfaultfd",
        "Create a descriptor that hands page faults to user space",
    ),
    (
        "membarrier",
        "Issue memory barriers across all threads of a process",
    ),
    ("mlock2", "Pin a memory range in RAM, with flags"),
    (
        "copy_file_range",
        "Copy a range of bytes between two files inside the kernel",
    ),
    (
        "preadv2",
        "Read into several buffers at an offset, with per-call flags",
    ),
    (
        "pwritev2",
        "Write from several buffers at an offset, with per-call flags",
    ),
    (
        "pkey_mprotect",
        "Change memory access rights and tag the range with a protection key",
    ),
    ("pkey_alloc", "Allocate a memory protection key"),
    ("pkey_free", "Release a memory protection key"),
    (
        "statx",
        "Get extended file metadata (birth time, mount id) by path or fd",
    ),
    (
        "io_pgetevents",
        "Wait for asynchronous I/O completions with a signal mask",
    ),
    (
        "rseq",
        "Register a restartable-sequences area for fast per-CPU data",
    ),
    (
        "pidfd_send_signal",
        "Send a signal to a process named by a pid descriptor",
    ),
    (
        "io_uring_setup",
        "Create an io_uring submission and completion queue pair",
    ),
    (
        "io_uring_enter",
        "Submit io_uring requests and/or wait for completions",
    ),
    (
        "io_uring_register",
        "Register files or buffers with an io_uring",
    ),
    (
        "open_tree",
        "Get a descriptor for a mount tree (to move or clone it)",
    ),
    ("move_mount", "Attach or move a mount given by a descriptor"),
    ("fsopen", "Start configuring a new filesystem instance"),
    (
        "fsconfig",
        "Set parameters of a filesystem being configured",
    ),
    (
        "fsmount",
        "Turn a configured filesystem into a mount descriptor",
    ),
    ("fspick", "Get a configuration handle for an existing mount"),
    ("pidfd_open", "Get a descriptor that refers to a process"),
    (
        "clone3",
        "Create a new process or thread, with arguments in a struct (what glibc uses for threads)",
    ),
    ("close_range", "Close every descriptor in a range"),
    (
        "openat2",
        "Open a path relative to a directory fd, with resolution restrictions",
    ),
    ("pidfd_getfd", "Copy a descriptor out of another process"),
    (
        "faccessat2",
        "Check access to a path relative to a directory fd, with flags",
    ),
    (
        "process_madvise",
        "Give memory usage hints about another process",
    ),
    ("epoll_pwait2", "epoll_pwait with a nanosecond timeout"),
    ("mount_setattr", "Change the properties of a mount tree"),
    ("quotactl_fd", "Manage disk quotas through a descriptor"),
    (
        "landlock_create_ruleset",
        "Create a Landlock sandbox rule set",
    ),
    ("landlock_add_rule", "Add a rule to a Landlock rule set"),
    (
        "landlock_restrict_self",
        "Sandbox the caller with a Landlock rule set",
    ),
    (
        "memfd_secret",
        "Create memory hidden even from the kernel's direct map",
    ),
    (
        "process_mrelease",
        "Free the memory of a dying process quickly",
    ),
    ("futex_waitv", "Wait on several futexes at once"),
    (
        "set_mempolicy_home_node",
        "Set the preferred NUMA node of a memory range",
    ),
    ("cachestat", "Ask how much of a file is in the page cache"),
    (
        "fchmodat2",
        "Change permission bits relative to a directory fd, with flags",
    ),
    (
        "map_shadow_stack",
        "Allocate a shadow stack (control-flow protection)",
    ),
    ("futex_wake", "Wake threads waiting on a futex (new API)"),
    ("futex_wait", "Wait on a futex (new API)"),
    (
        "futex_requeue",
        "Move waiters from one futex to another (new API)",
    ),
    ("statmount", "Get information about a mount"),
    ("listmount", "List the mounts under a mount"),
    (
        "lsm_get_self_attr",
        "Read security-module attributes of the caller",
    ),
    (
        "lsm_set_self_attr",
        "Set a security-module attribute of the caller",
    ),
    ("lsm_list_modules", "List the active security modules"),
    (
        "mseal",
        "Seal a memory range so its mapping can no longer change",
    ),
];

/// `(name, meaning)` for errno values (and the kernel's restart codes).
pub static ERRNOS: &[(&str, &str)] = &[
    ("EPERM", "Not allowed: the caller lacks the privilege"),
    ("ENOENT", "The path (or a directory on the way) does not exist"),
    ("ESRCH", "No such process or thread"),
    ("EINTR", "A signal interrupted the call before it finished"),
    ("EIO", "Low-level input/output failure"),
    ("ENXIO", "The device or address does not exist"),
    ("E2BIG", "Argument list (or other input) too long"),
    ("ENOEXEC", "The file is not in a format the kernel can execute"),
    ("EBADF", "The file descriptor is not open (or not open for this use)"),
    ("ECHILD", "No child process to wait for"),
    ("EAGAIN", "Nothing available now; try again (non-blocking call or lost futex race)"),
    ("ENOMEM", "Out of memory"),
    ("EACCES", "Permission denied by file mode or a security policy"),
    ("EFAULT", "A pointer argument points outside the process's memory"),
    ("ENOTBLK", "A block device was expected"),
    ("EBUSY", "The resource is in use"),
    ("EEXIST", "The target already exists"),
    ("EXDEV", "The operation cannot cross filesystems"),
    ("ENODEV", "No such device or filesystem type"),
    ("ENOTDIR", "A path component is not a directory"),
    ("EISDIR", "The path is a directory where a file was expected"),
    ("EINVAL", "An argument is invalid"),
    ("ENFILE", "The system-wide open file table is full"),
    ("EMFILE", "The process has hit its open file descriptor limit"),
    ("ENOTTY", "The request does not apply to this kind of file (often: not a terminal)"),
    ("ETXTBSY", "The executable file is busy being written"),
    ("EFBIG", "The file would grow past the allowed size"),
    ("ENOSPC", "No space left on the device"),
    ("ESPIPE", "Seeking is not possible on a pipe, socket or FIFO"),
    ("EROFS", "The filesystem is mounted read-only"),
    ("EMLINK", "Too many links"),
    ("EPIPE", "Writing to a pipe or socket whose reader has gone"),
    ("EDOM", "Math argument out of range"),
    ("ERANGE", "Result too large for the buffer or type"),
    ("EDEADLK", "The lock would deadlock"),
    ("ENAMETOOLONG", "The path or a name in it is too long"),
    ("ENOLCK", "No locks available"),
    ("ENOSYS", "This kernel does not implement the system call"),
    ("ENOTEMPTY", "The directory is not empty"),
    ("ELOOP", "Too many symbolic links while resolving the path"),
    ("ENOMSG", "No message of the wanted type"),
    ("EIDRM", "The identifier was removed"),
    ("ENOSTR", "Not a STREAMS device"),
    ("ENODATA", "No data available (e.g. the extended attribute is not set)"),
    ("ETIME", "Timer expired"),
    ("ENOSR", "Out of STREAMS resources"),
    ("EREMOTE", "The object is remote"),
    ("ENOLINK", "The link was severed"),
    ("EPROTO", "Protocol error"),
    ("EMULTIHOP", "Multihop attempted"),
    ("EBADMSG", "Malformed message"),
    ("EOVERFLOW", "The value does not fit in the data type"),
    ("EILSEQ", "Invalid byte sequence"),
    ("EUSERS", "Too many users"),
    ("ENOTSOCK", "The descriptor is not a socket"),
    ("EDESTADDRREQ", "A destination address is required"),
    ("EMSGSIZE", "The message is too long for the socket"),
    ("EPROTOTYPE", "Wrong protocol type for the socket"),
    ("ENOPROTOOPT", "The socket option or protocol level is not supported"),
    ("EPROTONOSUPPORT", "The protocol is not supported"),
    ("ESOCKTNOSUPPORT", "The socket type is not supported"),
    ("EOPNOTSUPP", "The operation is not supported on this object"),
    ("ENOTSUP", "The operation is not supported"),
    ("EPFNOSUPPORT", "The protocol family is not supported"),
    ("EAFNOSUPPORT", "The address family is not supported (e.g. no IPv6)"),
    ("EADDRINUSE", "The address or port is already in use"),
    ("EADDRNOTAVAIL", "The address is not available on this machine"),
    ("ENETDOWN", "The network is down"),
    ("ENETUNREACH", "No route to that network"),
    ("ENETRESET", "The network dropped the connection on reset"),
    ("ECONNABORTED", "The connection was aborted locally"),
    ("ECONNRESET", "The peer reset the connection"),
    ("ENOBUFS", "No buffer space available"),
    ("EISCONN", "The socket is already connected"),
    ("ENOTCONN", "The socket is not connected"),
    ("ESHUTDOWN", "The socket was shut down for sending"),
    ("ETOOMANYREFS", "Too many references"),
    ("ETIMEDOUT", "The operation timed out"),
    ("ECONNREFUSED", "Nobody is listening at that address and port"),
    ("EHOSTDOWN", "The host is down"),
    ("EHOSTUNREACH", "No route to the host"),
    ("EALREADY", "The operation is already in progress"),
    ("EINPROGRESS", "Started but not finished yet (non-blocking connect)"),
    ("ESTALE", "Stale file handle (typically NFS)"),
    ("EDQUOT", "Disk quota exceeded"),
    ("ECANCELED", "The operation was cancelled"),
    ("EOWNERDEAD", "The owner of a robust lock died"),
    ("ENOTRECOVERABLE", "The lock's state cannot be recovered"),
    ("ERFKILL", "Blocked by a radio kill switch"),
    ("EHWPOISON", "The memory page has a hardware error"),
    ("ENOKEY", "The key is not available"),
    ("EKEYEXPIRED", "The key has expired"),
    ("EKEYREVOKED", "The key was revoked"),
    ("EKEYREJECTED", "The key was rejected"),
    ("ENOMEDIUM", "No medium in the drive"),
    ("EMEDIUMTYPE", "Wrong medium type"),
    ("ECHRNG", "Channel number out of range"),
    ("EL2NSYNC", "Level 2 not synchronized"),
    ("EL3HLT", "Level 3 halted"),
    ("EL3RST", "Level 3 reset"),
    ("ELNRNG", "Link number out of range"),
    ("EUNATCH", "Protocol driver not attached"),
    ("ENOCSI", "No CSI structure available"),
    ("EL2HLT", "Level 2 halted"),
    ("EBADE", "Invalid exchange"),
    ("EBADR", "Invalid request descriptor"),
    ("EXFULL", "Exchange full"),
    ("ENOANO", "No anode"),
    ("EBADRQC", "Invalid request code"),
    ("EBADSLT", "Invalid slot"),
    ("EBFONT", "Bad font file format"),
    ("ENONET", "The machine is not on the network"),
    ("ENOPKG", "Package not installed"),
    ("EADV", "Advertise error"),
    ("ESRMNT", "Srmount error"),
    ("ECOMM", "Communication error on send"),
    ("EDOTDOT", "RFS-specific error"),
    ("ENOTUNIQ", "Name not unique on the network"),
    ("EBADFD", "The descriptor is in a bad state"),
    ("EREMCHG", "The remote address changed"),
    ("ELIBACC", "Cannot access a needed shared library"),
    ("ELIBBAD", "A shared library is corrupted"),
    ("ELIBSCN", "Corrupted .lib section in a.out"),
    ("ELIBMAX", "Too many shared libraries"),
    ("ELIBEXEC", "Cannot execute a shared library directly"),
    ("ERESTART", "The call should be restarted"),
    ("ESTRPIPE", "Streams pipe error"),
    ("EUCLEAN", "The filesystem structure needs cleaning"),
    ("ENOTNAM", "Not a XENIX named type file"),
    ("ENAVAIL", "No XENIX semaphores available"),
    ("EISNAM", "Is a named type file"),
    ("EREMOTEIO", "Remote I/O error"),
    ("ERESTARTSYS", "Interrupted by a signal; restarted if the handler has SA_RESTART (never seen by the program)"),
    ("ERESTARTNOINTR", "Interrupted by a signal; always restarted (never seen by the program)"),
    ("ERESTARTNOHAND", "Interrupted; restarted only if no handler ran (never seen by the program)"),
    ("ERESTART_RESTARTBLOCK", "Interrupted sleep; resumed later through restart_syscall"),
    ("ENOIOCTLCMD", "Unknown ioctl command (kernel-internal)"),
];

fn index(table: &'static [(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
    table.iter().copied().collect()
}

/// What a system call does, in one line.
pub fn syscall(name: &str) -> Option<&'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| index(SYSCALLS)).get(name).copied()
}

/// What an errno name means, in one line.
pub fn errno(name: &str) -> Option<&'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| index(ERRNOS)).get(name).copied()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn tables_are_complete_and_unique() {
        assert!(SYSCALLS.len() >= 350, "{} syscalls", SYSCALLS.len());
        let mut names: Vec<&str> = SYSCALLS.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SYSCALLS.len());
        assert!(SYSCALLS.iter().all(|(_, m)| !m.is_empty() && m.len() < 120));
        assert_eq!(syscall("openat").map(|m| m.contains("Open")), Some(true));
        assert_eq!(
            errno("ENOENT").map(|m| m.contains("does not exist")),
            Some(true)
        );
        assert_eq!(syscall("no_such_call"), None);
    }
}
