//! `tracedeck serve`: the web application (upload, background analysis,
//! JSON API and pages) over an embedded data directory.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use axum::http::HeaderName;
use clap::Args;
use ipnet::IpNet;

use tracedeck::capture::{parse_duration, parse_size};
use tracedeck::web::auth::AuthConfig;
use tracedeck::web::pipeline::Pace;
use tracedeck::web::{raise_open_file_limit, Config, ConnLimits, Server};

const EXAMPLES: &str = "\
Examples:
  tracedeck serve                                   http://127.0.0.1:8080/, data in ./tracedeck-data
  tracedeck user add ann && tracedeck serve --addr 0.0.0.0:8080 --max-upload 20GiB
  tracedeck serve --addr 0.0.0.0:8080 --auth-header X-Forwarded-Email --trusted-proxy 10.0.0.5";

/// --max-capture when not given, as a multiple of --max-upload: room for
/// well-compressed captures, not for gzip bombs (which inflate ~1000x).
const DEFAULT_INFLATION: u64 = 8;

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Where uploads and results are kept.
    #[arg(long, default_value = "./tracedeck-data")]
    data_dir: PathBuf,
    /// Largest upload accepted: bytes, or k/M/G/T (powers of 1000) or
    /// Ki/Mi/Gi/Ti (powers of 1024), with or without B: 500MB, 4GiB.
    #[arg(long, value_name = "SIZE", default_value = "4GiB", value_parser = upload_size)]
    max_upload: u64,
    /// Largest capture a gzip upload may inflate to (strace: all its logs
    /// together), same syntax as --max-upload; past it the analysis fails
    /// [default: 8 times --max-upload].
    #[arg(long, value_name = "SIZE", value_parser = upload_size)]
    max_capture: Option<u64>,
    /// The slowest an upload body may arrive, SIZE/DURATION: fewer bytes
    /// than SIZE in any DURATION and the upload is given up (400, nothing
    /// kept).
    #[arg(long, value_name = "SIZE/DURATION", default_value = "1KiB/30s", value_parser = Pace::parse)]
    upload_pace: Pace,
    /// Most result rows (conversations, HTTP exchanges and DNS lookups
    /// together) one capture's analysis stores; at the cap it stops and
    /// says so in the capture's warnings.
    #[arg(long, value_name = "N", default_value_t = tracedeck::store::MAX_RESULT_ROWS,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_results: u64,
    /// Analyses run at once (default: half the cores, at least one).
    #[arg(long)]
    workers: Option<usize>,
    /// Time a client has to send a request's headers, and the most a
    /// keep-alive connection stays idle: 30s, 500ms, 2m.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = timeout)]
    header_timeout: Duration,
    /// Connections served at once (more wait to be accepted); lowered to
    /// stay under the open-file limit.
    #[arg(long, value_name = "N", default_value_t = 512)]
    max_connections: usize,
    /// Connections served at once from one IP address (more are answered
    /// 429 and closed).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_client: u32,
    /// On SIGTERM or Ctrl-C: stop accepting, and give the requests in
    /// flight (uploads) this long to finish before exiting.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = timeout)]
    shutdown_grace: Duration,
    /// Serve everyone without accounts even on a non-loopback address
    /// (every page then says so).
    #[arg(long)]
    open: bool,
    /// Header in which a trusted reverse proxy names the signed-in user
    /// (X-Forwarded-Email, as oauth2-proxy sets it); needs --trusted-proxy.
    #[arg(long, value_name = "HEADER")]
    auth_header: Option<HeaderName>,
    /// Address or CIDR of a reverse proxy whose --auth-header and
    /// X-Forwarded-Proto are believed (repeatable).
    #[arg(long, value_name = "ADDR|CIDR", value_parser = proxy_net)]
    trusted_proxy: Vec<IpNet>,
    /// Host name the server is reached by, besides its address and
    /// localhost (repeatable); other Host headers are refused.
    #[arg(long, value_name = "NAME")]
    public_host: Vec<String>,
    /// Longest a share link may live, days (a longer expiry is cut to it).
    #[arg(long, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    share_max_days: u32,
}

/// `10.0.0.0/8`, or one address (`10.0.0.1`: a /32 or /128).
fn proxy_net(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a CIDR (10.0.0.0/8)"))
}

/// File descriptors kept for everything but connections: the databases,
/// captures being analyzed, logs being parsed, stdio.
const FDS_KEPT: u64 = 64;

/// A duration (`tracedeck::capture::parse_duration`) above zero.
fn timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Err(format!("{text:?}: the timeout must be above 0")),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// `wanted` connections, lowered so that each (its socket and a staging
/// file) fits under the open-file limit in force.
fn connection_cap(wanted: usize) -> usize {
    let open_files = raise_open_file_limit().unwrap_or_else(|(current, why)| {
        tracing::warn!("{why}: the connection cap follows the limit of {current}");
        current
    });
    let fits = usize::try_from(open_files.saturating_sub(FDS_KEPT) / 2).unwrap_or(usize::MAX);
    let cap = wanted.min(fits).max(1);
    if cap < wanted {
        tracing::warn!(
            "--max-connections {wanted} lowered to {cap}: the open-file limit is {open_files}"
        );
    }
    cap
}

/// A size of the one syntax every size option takes (`tracedeck::capture::parse_size`);
/// a cap of 0 would refuse everything, so it is refused here.
fn upload_size(text: &str) -> Result<u64, String> {
    match parse_size(text) {
        Ok(0) => Err(format!(
            "{text:?} is not a usable size: the cap must be above 0"
        )),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    });
    let config = Config {
        addr: args.addr,
        data_dir: args.data_dir,
        max_upload: args.max_upload,
        upload_pace: args.upload_pace,
        max_capture: args
            .max_capture
            .unwrap_or(args.max_upload.saturating_mul(DEFAULT_INFLATION)),
        max_results: args.max_results,
        workers,
        conn: ConnLimits {
            header_timeout: args.header_timeout,
            max_connections: connection_cap(args.max_connections),
            max_per_client: args.max_connections_per_client as usize,
            shutdown_grace: args.shutdown_grace,
        },
        auth: AuthConfig {
            open: args.open,
            auth_header: args.auth_header,
            trusted_proxies: args.trusted_proxy,
            public_hosts: args.public_host,
            share_max_days: Some(args.share_max_days),
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(config.clone()).await?;
        let addr = server.local_addr()?;
        println!(
            "tracedeck: serving http://{addr}/ (data in {})",
            config.data_dir.display()
        );
        use std::io::Write;
        std::io::stdout().flush()?;
        server
            .run(async {
                use tokio::signal::unix::{signal, SignalKind};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    },
                    Err(e) => {
                        tracing::warn!("cannot watch for SIGTERM: {e}");
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
                tracing::info!("shutting down: finishing the requests in flight");
            })
            .await?;
        Ok(())
    })
}

#[cfg(test)]
mod test {
    use super::{proxy_net, timeout, upload_size};

    #[test]
    fn proxies_are_addresses_or_networks() {
        assert_eq!(proxy_net("10.0.0.1").unwrap().to_string(), "10.0.0.1/32");
        assert_eq!(proxy_net("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(proxy_net("::1").unwrap().to_string(), "::1/128");
        assert!(proxy_net("proxy.example").is_err());
    }

    #[test]
    fn sizes_take_the_one_syntax() {
        assert_eq!(upload_size("4GiB"), Ok(4 << 30));
        assert_eq!(upload_size("4G"), Ok(4_000_000_000));
        assert_eq!(upload_size("500MiB"), Ok(500 << 20));
        assert_eq!(upload_size("1024"), Ok(1024));
        assert!(upload_size("0").is_err());
        assert!(upload_size("4X").is_err());
        assert!(upload_size("-1").is_err());
        assert!(upload_size("99999999999T").is_err());
    }

    #[test]
    fn timeouts_are_above_zero() {
        assert_eq!(timeout("1s"), Ok(std::time::Duration::from_secs(1)));
        assert_eq!(timeout("500ms"), Ok(std::time::Duration::from_millis(500)));
        assert!(timeout("0s").is_err());
        assert!(timeout("soon").is_err());
    }
}
