//! `tracedeck capture`: live capture to a pcap file, with limits, a
//! status line on a terminal, and optional upload to a tracedeck server.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use tracedeck::capture::{
    self, parse_duration, parse_size, status_line, Bytes, Config, FilterPlacement, LinkKind,
    Observer, PacketFilter, RetryPolicy, Started, Stats,
};

const WARNING: &str = "\
Capture files hold customer data (addresses, cookies, tokens, request
bodies): keep them as private as the service's own data, and delete them
when done. Capturing costs CPU on a busy server (every matching packet is
copied to user space and written); use a filter (-f) and the size and time
limits to keep it small.

Output: classic pcap with nanosecond timestamps. `-i any` (and devices that
are not Ethernet-like) give Linux cooked v2 (DLT 276); `lo` and Ethernet
devices give Ethernet (DLT 1). With --ring N, FILE is the newest file,
FILE.1 the one before it, up to FILE.{N-1}, the oldest; older ones are
deleted. Capture stops, leaving a valid file, when free space on the output
file system falls under 5% or 1 GiB (whichever is smaller).

Sizes: 4096, 500k, 100MB, 1GiB (k/M/G = 1000s, Ki/Mi/Gi = 1024s).
Durations: 30s, 5m, 1h.";

fn size_arg(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// Capture packets to a pcap file (Linux, as root or with CAP_NET_RAW).
#[derive(clap::Args, Debug)]
#[command(after_help = WARNING)]
pub struct CaptureArgs {
    /// Interface to capture on (`any` for all of them)
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    interface: String,
    /// Capture filter, pcap-filter syntax as tcpdump takes it (e.g. "tcp port 8080")
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    filter: Option<String>,
    /// Output file
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    output: PathBuf,
    /// Cap on the file's size (on each file with --ring)
    #[arg(long, value_name = "SIZE", value_parser = size_arg, default_value = "100MB")]
    max_size: u64,
    /// Stop after this long
    #[arg(long, value_name = "DUR", value_parser = duration_arg)]
    max_duration: Option<Duration>,
    /// Stop after writing this many packets
    #[arg(long, value_name = "N")]
    max_packets: Option<u64>,
    /// Rotate through N files of --max-size each, keeping the newest
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    ring: Option<u32>,
    /// Bytes kept per packet, link header included
    #[arg(long, value_name = "N", default_value_t = capture::DEFAULT_SNAPLEN)]
    snaplen: u32,
    /// Send each finished file to this tracedeck server (http://host:port) and print its link
    #[arg(long, value_name = "URL")]
    upload: Option<String>,
    /// First retry delay of --upload in milliseconds (doubles on each try)
    #[arg(long, hide = true, default_value_t = 1000)]
    upload_retry_ms: u64,
}

/// Draws the status line on a terminal; says nothing otherwise.
struct Status {
    tty: bool,
    max_size: u64,
    ring: u32,
    drawn: bool,
}

impl Status {
    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[K");
            self.drawn = false;
        }
    }
}

impl Observer for Status {
    fn started(&mut self, info: &Started) {
        let link = match info.link {
            LinkKind::Ethernet => "Ethernet (DLT 1)",
            LinkKind::Cooked => "Linux cooked v2 (DLT 276)",
        };
        eprintln!(
            "tracedeck: capturing on {}, link type {link}, snaplen {}",
            info.interface, info.snaplen
        );
        match &info.filter {
            FilterPlacement::UserSpace { reason } => eprintln!(
                "tracedeck: the filter runs in user space, not in the kernel ({reason}); every packet is copied out first"
            ),
            FilterPlacement::Kernel => eprintln!("tracedeck: the filter runs in the kernel"),
            FilterPlacement::None => {}
        }
    }

    fn progress(&mut self, stats: &Stats) {
        if self.tty {
            eprint!("\r\x1b[K{}", status_line(stats, self.max_size, self.ring));
            let _ = std::io::stderr().flush();
            self.drawn = true;
        }
    }
}

/// The filter seam: the expression compiled for the kernel, or matched in user space.
fn load_filter(expr: &str) -> anyhow::Result<Box<dyn PacketFilter>> {
    match tracedeck::filter::parse(expr) {
        Ok(filter) => Ok(Box::new(filter)),
        Err(err) => bail!("bad filter {expr:?}: {err}"),
    }
}

pub fn run(args: CaptureArgs) -> anyhow::Result<()> {
    let config = Config {
        interface: args.interface.clone(),
        output: args.output.clone(),
        max_size: args.max_size,
        ring: args.ring.unwrap_or(1),
        max_duration: args.max_duration,
        max_packets: args.max_packets,
        snaplen: args.snaplen,
    };
    let filter = args.filter.as_deref().map(load_filter).transpose()?;
    let mut status = Status {
        tty: std::io::stderr().is_terminal(),
        max_size: config.max_size,
        ring: config.ring,
        drawn: false,
    };
    let summary = capture::run(&config, filter.as_deref(), &mut status);
    status.clear();
    let summary = summary?;

    let s = &summary.stats;
    let files: Vec<String> = summary
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    eprintln!(
        "tracedeck: {} packets captured ({} on the wire) in {}: {}",
        s.packets,
        Bytes(s.wire_bytes),
        if files.len() == 1 {
            "1 file".to_string()
        } else {
            format!("{} files", files.len())
        },
        files.join(", ")
    );
    eprintln!(
        "tracedeck: {} packets received by the kernel, {} dropped by the kernel{}",
        s.kernel_received,
        s.kernel_dropped,
        if s.filtered_in_user > 0 {
            format!(", {} rejected by the user-space filter", s.filtered_in_user)
        } else {
            String::new()
        }
    );
    if s.files > config.ring && config.ring > 1 {
        eprintln!(
            "tracedeck: {} older files were rotated out of the ring",
            s.files - config.ring
        );
    }
    eprintln!(
        "tracedeck: {} after {}",
        summary.reason,
        capture::Clock(s.elapsed)
    );

    if let Some(server) = &args.upload {
        let policy = RetryPolicy {
            first_delay: Duration::from_millis(args.upload_retry_ms),
            ..RetryPolicy::default()
        };
        let mut failed = Vec::new();
        for path in &summary.files {
            let mut on_retry = |attempt: u32, err: &capture::UploadError, wait: Duration| {
                eprintln!(
                    "tracedeck: upload of {} failed (try {attempt}: {err}); retrying in {:.1}s",
                    path.display(),
                    wait.as_secs_f64()
                );
            };
            match capture::upload_file(server, path, &policy, &mut on_retry) {
                Ok(up) => println!("{}", up.link),
                Err(err) => {
                    eprintln!(
                        "tracedeck: upload of {} failed: {err}; the file is kept",
                        path.display()
                    );
                    failed.push(path.display().to_string());
                }
            }
        }
        if !failed.is_empty() {
            return Err(anyhow::anyhow!("not uploaded: {}", failed.join(", ")))
                .context("upload failed");
        }
    }
    Ok(())
}
