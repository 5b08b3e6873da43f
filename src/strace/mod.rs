//! strace logs: the parser (every output form strace writes) and the model
//! built from it (processes, syscalls, files, pauses).
