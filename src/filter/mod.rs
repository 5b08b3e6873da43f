//! The pcap-filter expression language (`port 8080`, `host 10.0.0.1 and not
//! port 22`): parse once, evaluate on frames in user space, compile to
//! classic BPF for the kernel.
