//! The capture loop: opens the socket, places the filter, checks the disk,
//! then moves packets from the ring to the output until something stops it.

use std::io;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::socket::{self, PacketSocket};
use super::writer::{Output, Written};
use super::{
    disk, signals, Config, Error, FilterPlacement, Observer, PacketFilter, Result, Started, Stats,
    StopReason, Summary,
};

/// How long `poll` waits when no block is ready.
const POLL_MS: i32 = 100;
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Free space is checked once a second, and after each MiB written.
const DISK_CHECK_EVERY: Duration = Duration::from_secs(1);
const DISK_CHECK_BYTES: u64 = 1 << 20;

pub fn run(
    config: &Config,
    filter: Option<&dyn PacketFilter>,
    observer: &mut dyn Observer,
) -> Result<Summary> {
    config.validate()?;
    let snaplen = config.effective_snaplen();
    let iface = socket::lookup(&config.interface)?;
    let mut sock = PacketSocket::open(&iface, snaplen)?;

    let placement = match filter {
        None => {
            sock.attach(None)?;
            FilterPlacement::None
        }
        Some(f) => match f.compile(iface.kind) {
            Ok(prog) => match sock.attach(Some(&prog)) {
                Ok(()) => FilterPlacement::Kernel,
                Err(err) => {
                    sock.attach(None)?;
                    FilterPlacement::UserSpace {
                        reason: format!("the kernel refused the compiled program ({err})"),
                    }
                }
            },
            Err(reason) => {
                sock.attach(None)?;
                FilterPlacement::UserSpace { reason }
            }
        },
    };
    let user_filter = match placement {
        FilterPlacement::UserSpace { .. } => filter,
        _ => None,
    };

    let out_err = |source: io::Error| Error::Output {
        path: config.output.clone(),
        source,
    };
    let dir = disk::dir_of(&config.output);
    let space = disk::space(&dir).map_err(out_err)?;
    if space.is_low() {
        return Err(Error::DiskLow { dir, space });
    }
    let mut out = Output::create(
        &config.output,
        config.ring,
        config.max_size,
        iface.kind.link_type(),
        snaplen,
    )
    .map_err(out_err)?;

    let guard = signals::install().map_err(|source| Error::Socket {
        op: "sigaction",
        source,
    })?;
    sock.bind()?;
    observer.started(&Started {
        interface: iface.name.clone(),
        link: iface.kind,
        snaplen,
        filter: placement.clone(),
    });

    let start = Instant::now();
    let mut stats = Stats {
        files: 1,
        ..Stats::default()
    };
    let mut last_progress = start;
    let mut last_disk = start;
    let mut last_rotation = start;
    let mut disk_checked_at_bytes = 0u64;
    let mut stop: Option<StopReason> = None;
    let mut write_err: Option<io::Error> = None;

    // A stop asked by a signal or the deadline waits one block-retire
    // period, so the packets already seen by the kernel reach the file.
    let mut ending: Option<(StopReason, Instant)> = None;

    let reason = loop {
        if ending.is_none() {
            let asked = signals::received().map(StopReason::Signal).or_else(|| {
                config
                    .max_duration
                    .filter(|d| start.elapsed() >= *d)
                    .map(StopReason::MaxDuration)
            });
            ending = asked.map(|r| (r, Instant::now() + socket::RETIRE_GRACE));
        }

        let mut drained = 0;
        while drained < socket_blocks()
            && stop.is_none()
            && write_err.is_none()
            && stats.wire_bytes - disk_checked_at_bytes < DISK_CHECK_BYTES
        {
            let mut each = |frame: &crate::pcap::Frame<'_>| {
                if let Some(f) = user_filter {
                    if !f.matches(frame) {
                        stats.filtered_in_user += 1;
                        return ControlFlow::Continue(());
                    }
                }
                match out.write(frame) {
                    Ok(Written::Yes) => {
                        stats.packets += 1;
                        stats.wire_bytes += u64::from(frame.orig_len);
                        if config.max_packets == Some(stats.packets) {
                            stop = Some(StopReason::MaxPackets(stats.packets));
                            return ControlFlow::Break(());
                        }
                        ControlFlow::Continue(())
                    }
                    Ok(Written::Full) => {
                        stop = Some(StopReason::MaxSize(config.max_size));
                        ControlFlow::Break(())
                    }
                    Err(err) => {
                        write_err = Some(err);
                        ControlFlow::Break(())
                    }
                }
            };
            if !sock.drain_block(&mut each) {
                break;
            }
            drained += 1;
        }
        if let Some(err) = write_err.take() {
            let _ = out.finish();
            return Err(out_err(err));
        }
        if let Some(reason) = stop.take() {
            break reason;
        }
        if let Some((reason, until)) = &ending {
            if Instant::now() >= *until {
                break reason.clone();
            }
        }

        let now = Instant::now();
        let written = stats.wire_bytes;
        if now.duration_since(last_disk) >= DISK_CHECK_EVERY
            || written - disk_checked_at_bytes >= DISK_CHECK_BYTES
        {
            last_disk = now;
            disk_checked_at_bytes = written;
            out.flush().map_err(out_err)?;
            if let Ok(space) = disk::space(&dir) {
                if space.is_low() {
                    break StopReason::DiskLow {
                        dir: dir.clone(),
                        space,
                    };
                }
            }
        }
        if let Some(every) = config.rotate_every {
            if now.duration_since(last_rotation) >= every {
                last_rotation = now;
                out.rotate_if_used().map_err(out_err)?;
            }
        }
        if now.duration_since(last_progress) >= PROGRESS_EVERY {
            last_progress = now;
            add_kernel_stats(&sock, &mut stats);
            stats.elapsed = now.duration_since(start);
            stats.file_len = out.file_len();
            stats.files = out.files_started();
            observer.progress(&stats);
        }
        if drained == 0 {
            match sock.wait(POLL_MS) {
                Err(err) if err.kind() != io::ErrorKind::Interrupted => {
                    return Err(Error::Socket {
                        op: "poll",
                        source: err,
                    });
                }
                _ => {}
            }
        }
    };
    drop(guard);

    add_kernel_stats(&sock, &mut stats);
    stats.elapsed = start.elapsed();
    stats.file_len = out.file_len();
    stats.files = out.files_started();
    drop(sock);
    let files = out.finish().map_err(out_err)?;
    Ok(Summary {
        stats,
        reason,
        filter: placement,
        files,
    })
}

/// Blocks drained in one turn of the loop before limits are looked at again.
fn socket_blocks() -> usize {
    8
}

fn add_kernel_stats(sock: &PacketSocket, stats: &mut Stats) {
    if let Ok((received, dropped)) = sock.take_stats() {
        stats.kernel_received += received;
        stats.kernel_dropped += dropped;
    }
}
