//! `tracedeck capture`: live capture to a pcap file, with limits, a
//! status line on a terminal, and optional upload to a tracedeck server.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use tracedeck::capture::{
    self, parse_duration, parse_size, status_line, Bytes, Config, FilterPlacement, LinkKind,
    Observer, PacketFilter, RetryPolicy, Started, Stats,
};

use super::interfaces;

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

Sizes: 4096, 500k, 100MB, 1GiB (k/M/G = 1000s, Ki/Mi/Gi = 1024s; bytes
without a unit, except -C, which counts millions of bytes as tcpdump does).
Durations: 30s, 5m, 1h (seconds without a unit).

tcpdump's options work too: -s (--snaplen), -c (--max-packets), -C (file
size in MB), -W (--ring), -G (--rotate-every), -D (list interfaces). Unlike
tcpdump, -C or -G without -W never opens more files: -C alone stops at
the cap, and -G needs -W.

Examples:
  tracedeck capture -i eth0 -w out.pcap port 8080 --max-duration 5m
  tracedeck capture -i any -w ring.pcap -C 100 -W 5 -G 600
  tracedeck capture -D";

fn size_arg(s: &str) -> Result<u64, String> {
    parse_size(s).map_err(|e| e.to_string())
}

/// `-C`: a bare number is millions of bytes (tcpdump's unit), anything
/// else a size of the one syntax.
fn megabytes_arg(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(mb) => mb
            .checked_mul(1_000_000)
            .ok_or_else(|| format!("{s:?} is too large")),
        Err(_) => size_arg(s),
    }
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

/// Capture packets to a pcap file (Linux, as root or with CAP_NET_RAW).
#[derive(clap::Args, Debug)]
#[command(after_help = WARNING)]
pub struct CaptureArgs {
    /// Interface to capture on (`any` for all of them), or its number in the -D list
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        required_unless_present = "list_interfaces"
    )]
    interface: Option<String>,
    /// Capture filter, pcap-filter syntax as tcpdump takes it (e.g. "tcp port 8080")
    #[arg(
        short = 'f',
        long = "filter",
        value_name = "EXPR",
        conflicts_with = "expression"
    )]
    filter: Option<String>,
    /// The capture filter as trailing words, as with `tcpdump -i IFACE EXPR`
    #[arg(value_name = "EXPR")]
    expression: Vec<String>,
    /// Output file
    #[arg(
        short = 'w',
        long = "write",
        value_name = "FILE",
        required_unless_present = "list_interfaces"
    )]
    output: Option<PathBuf>,
    /// Cap on the file's size (on each file with --ring): a size such as 100MB or 1GiB
    #[arg(long, value_name = "SIZE", value_parser = size_arg, default_value = "100MB")]
    max_size: u64,
    /// tcpdump's -C: the cap on each file's size in millions of bytes (-C 100 = 100MB)
    #[arg(short = 'C', value_name = "MB", value_parser = megabytes_arg, conflicts_with = "max_size")]
    file_size_mb: Option<u64>,
    /// Stop after this long: a duration such as 30s, 5m or 1h
    #[arg(long, value_name = "DUR", value_parser = duration_arg)]
    max_duration: Option<Duration>,
    /// Stop after writing this many packets
    #[arg(short = 'c', long, value_name = "N")]
    max_packets: Option<u64>,
    /// Rotate through N files of --max-size each, keeping the newest
    #[arg(short = 'W', long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    ring: Option<u32>,
    /// Also start the next file of the ring this often (needs --ring): 600, 10m
    #[arg(short = 'G', long, value_name = "DUR", value_parser = duration_arg)]
    rotate_every: Option<Duration>,
    /// Bytes kept per packet, link header included
    #[arg(short = 's', long, value_name = "N", default_value_t = capture::DEFAULT_SNAPLEN)]
    snaplen: u32,
    /// List the interfaces (number, name, flags) as `tcpdump -D` does, and exit
    #[arg(short = 'D', long)]
    list_interfaces: bool,
    /// Send each finished file to this tracedeck server (http://host:port) and print its link
    #[arg(long, value_name = "URL")]
    upload: Option<String>,
    /// Send this API token with --upload (the first line of the file; a
    /// token of scope upload: `tracedeck token create --scope upload`)
    #[arg(long, value_name = "FILE", requires = "upload")]
    token_file: Option<PathBuf>,
    /// Trust the server's certificate if this PEM CA signed it (an
    /// https:// --upload to a private CA); default: the webpki roots
    #[arg(long, value_name = "FILE", requires = "upload")]
    ca_file: Option<PathBuf>,
    /// Put each --upload in this team of the token's user (its members
    /// read it; `tracedeck team list`)
    #[arg(long, value_name = "NAME", requires = "upload")]
    team: Option<String>,
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

/// Where -D reads the interfaces.
const SYS_CLASS_NET: &str = "/sys/class/net";

/// `-i`: a name, or a number of the -D listing when no interface has that name.
fn interface_name(given: &str) -> anyhow::Result<String> {
    let Ok(number) = given.parse::<usize>() else {
        return Ok(given.to_string());
    };
    let all = interfaces::list(Path::new(SYS_CLASS_NET))
        .with_context(|| format!("looking up interface number {number}"))?;
    if all.iter().any(|i| i.name == given) {
        return Ok(given.to_string());
    }
    interfaces::by_number(&all, number)
        .with_context(|| format!("no interface number {number}: `tracedeck capture -D` lists them"))
}

pub fn run(args: CaptureArgs) -> anyhow::Result<()> {
    if args.list_interfaces {
        let all = interfaces::list(Path::new(SYS_CLASS_NET)).context("listing the interfaces")?;
        let stdout = std::io::stdout();
        interfaces::print(&mut stdout.lock(), &all)?;
        return Ok(());
    }
    // clap requires both unless -D was given.
    let (Some(interface), Some(output)) = (args.interface.as_deref(), args.output.clone()) else {
        bail!("capture needs -i IFACE and -w FILE");
    };
    let config = Config {
        interface: interface_name(interface)?,
        output,
        max_size: args.file_size_mb.unwrap_or(args.max_size),
        ring: args.ring.unwrap_or(1),
        max_duration: args.max_duration,
        max_packets: args.max_packets,
        snaplen: args.snaplen,
        rotate_every: args.rotate_every,
    };
    let expression = (!args.expression.is_empty()).then(|| args.expression.join(" "));
    let filter = args
        .filter
        .as_deref()
        .or(expression.as_deref())
        .map(load_filter)
        .transpose()?;
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
        let token = match &args.token_file {
            Some(f) => Some(
                std::fs::read_to_string(f)
                    .with_context(|| format!("reading the token from {}", f.display()))?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            ),
            None => None,
        };
        let access = capture::UploadAccess {
            token,
            ca_file: args.ca_file.clone(),
            team: args.team.clone(),
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
            match capture::upload_file_with(server, path, &access, &policy, &mut on_retry) {
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
