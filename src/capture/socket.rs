//! The AF_PACKET socket and its TPACKET_V3 receive ring (Linux only).
//!
//! Setup order avoids capturing anything unwanted: the socket is created
//! with protocol 0 (it receives nothing), the ring is mapped and the
//! classic BPF program attached, and only then `bind` names the protocol
//! (ETH_P_ALL) and the interface.
//!
//! Named Ethernet-like devices (ARPHRD_ETHER, ARPHRD_LOOPBACK) are opened
//! SOCK_RAW and give Ethernet frames (DLT 1). `any` and every other device
//! type are opened SOCK_DGRAM, and each packet gets a Linux cooked v2
//! header (DLT 276) built from its `sockaddr_ll`, as libpcap does.
//!
//! Outgoing packets on `lo` are skipped (in the kernel program and again
//! here): loopback shows every packet twice, once leaving and once
//! arriving, and tcpdump keeps only the arrival.

use std::ffi::CString;
use std::io;
use std::ops::ControlFlow;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use super::{BpfInsn, Error, LinkKind};
use crate::pcap::Frame;
use crate::time::Timestamp;

/// Total ring size: 8 blocks (tcpdump's default buffer is 2 MiB).
const RING_BLOCKS: usize = 8;
const MIN_BLOCK: usize = 512 * 1024;
/// Nominal frame size the kernel wants for TPACKET_V3 bookkeeping.
const FRAME_SIZE: usize = 2048;
/// A block is handed to user space after this many ms even if not full.
const RETIRE_MS: u32 = 100;
/// How long a stop waits for the kernel to retire the block being filled.
pub const RETIRE_GRACE: std::time::Duration =
    std::time::Duration::from_millis(RETIRE_MS as u64 + 50);
/// Length of a Linux cooked v2 header.
pub const SLL2_LEN: usize = 20;
const ETH_P_ALL: u16 = 0x0003;
const BPF_RET_K: u16 = 0x06;
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
/// The kernel's cap on a classic BPF program (BPF_MAXINSNS).
pub const MAX_INSNS: usize = 4096;

/// A network interface to capture on.
#[derive(Clone, Debug)]
pub struct Interface {
    pub name: String,
    /// 0 for `any`.
    pub index: u32,
    pub kind: LinkKind,
    /// Index of `lo` when its outgoing copies must be skipped (capturing on `lo` or `any`).
    pub skip_outgoing_on: Option<u32>,
}

fn if_index(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    // SAFETY: `c` is a valid C string.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (idx != 0).then_some(idx)
}

/// Finds the interface `name` (or `any`) and how to open it.
pub fn lookup(name: &str) -> Result<Interface, Error> {
    let lo = if_index("lo");
    if name == "any" {
        return Ok(Interface {
            name: name.into(),
            index: 0,
            kind: LinkKind::Cooked,
            skip_outgoing_on: lo,
        });
    }
    let no_such = || Error::NoSuchInterface(name.to_string());
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(no_such());
    }
    let index = if_index(name).ok_or_else(no_such)?;
    let arphrd = hardware_type(name).map_err(|source| Error::Socket {
        op: "SIOCGIFHWADDR",
        source,
    })?;
    let kind = match arphrd {
        libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => LinkKind::Ethernet,
        _ => LinkKind::Cooked,
    };
    Ok(Interface {
        name: name.into(),
        index,
        kind,
        skip_outgoing_on: lo.filter(|&l| l == index),
    })
}

/// The device's ARPHRD type, from SIOCGIFHWADDR on an ordinary UDP socket.
fn hardware_type(name: &str) -> io::Result<u16> {
    // SAFETY: plain socket(2); the fd is owned right away.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh valid fd.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is plain old data; zeroed is valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: SIOCGIFHWADDR fills `req`, which we own.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFHWADDR sets the hwaddr member of the union.
    Ok(unsafe { req.ifr_ifru.ifru_hwaddr.sa_family })
}

/// Builds the program the kernel runs on every packet: skip `lo`'s
/// outgoing copies (when `skip_outgoing_on` is set), then the user's
/// program (or accept all), with every `ret #k` clamped to `snaplen` so
/// the kernel copies no more than we keep.
pub fn kernel_program(
    user: Option<&[BpfInsn]>,
    skip_outgoing_on: Option<u32>,
    snaplen: u32,
) -> Vec<libc::sock_filter> {
    let ins = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    let mut prog = Vec::with_capacity(6 + user.map_or(1, <[_]>::len));
    if let Some(lo) = skip_outgoing_on {
        let ad = |off: libc::c_int| (libc::SKF_AD_OFF + off) as u32;
        prog.push(ins(BPF_LD_W_ABS, 0, 0, ad(libc::SKF_AD_PKTTYPE)));
        prog.push(ins(BPF_JEQ_K, 0, 3, u32::from(libc::PACKET_OUTGOING)));
        prog.push(ins(BPF_LD_W_ABS, 0, 0, ad(libc::SKF_AD_IFINDEX)));
        prog.push(ins(BPF_JEQ_K, 0, 1, lo));
        prog.push(ins(BPF_RET_K, 0, 0, 0));
    }
    match user {
        Some(user) => prog.extend(user.iter().map(|i| {
            let k = if i.code == BPF_RET_K && i.k != 0 {
                i.k.min(snaplen)
            } else {
                i.k
            };
            ins(i.code, i.jt, i.jf, k)
        })),
        None => prog.push(ins(BPF_RET_K, 0, 0, snaplen)),
    }
    prog
}

/// An open packet socket with its mapped receive ring.
pub struct PacketSocket {
    fd: OwnedFd,
    ring: *mut u8,
    ring_len: usize,
    block_size: usize,
    block_nr: usize,
    next_block: usize,
    iface: Interface,
    snaplen: u32,
    /// Where a frame is assembled when it needs a header added (SLL2, VLAN tag).
    scratch: Vec<u8>,
}

fn check(rc: libc::c_int, op: &'static str) -> Result<(), Error> {
    if rc < 0 {
        Err(Error::Socket {
            op,
            source: io::Error::last_os_error(),
        })
    } else {
        Ok(())
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T) -> libc::c_int {
    // SAFETY: `value` points to a live T of the size we pass.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    }
}

impl PacketSocket {
    /// Opens the socket and maps the ring; nothing is received until `bind`.
    /// `snaplen` is the most bytes kept per packet, link header included.
    pub fn open(iface: &Interface, snaplen: u32) -> Result<PacketSocket, Error> {
        let ty = match iface.kind {
            LinkKind::Ethernet => libc::SOCK_RAW,
            LinkKind::Cooked => libc::SOCK_DGRAM,
        };
        // SAFETY: plain socket(2).
        let raw = unsafe { libc::socket(libc::AF_PACKET, ty | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => Error::NotPermitted,
                _ => Error::Socket {
                    op: "socket(AF_PACKET)",
                    source: err,
                },
            });
        }
        // SAFETY: `raw` is a fresh valid fd.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        check(
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version),
            "PACKET_VERSION",
        )?;

        let need = snaplen as usize + SLL2_LEN + 4 + 256;
        let block_size = need.next_power_of_two().max(MIN_BLOCK);
        let req = libc::tpacket_req3 {
            tp_block_size: block_size as u32,
            tp_block_nr: RING_BLOCKS as u32,
            tp_frame_size: FRAME_SIZE as u32,
            tp_frame_nr: (block_size / FRAME_SIZE * RING_BLOCKS) as u32,
            tp_retire_blk_tov: RETIRE_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        check(
            setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req),
            "PACKET_RX_RING",
        )?;
        let ring_len = block_size * RING_BLOCKS;
        // SAFETY: mapping the ring the kernel just allocated for this fd.
        let ring = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ring_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ring == libc::MAP_FAILED {
            return Err(Error::Socket {
                op: "mmap",
                source: io::Error::last_os_error(),
            });
        }
        Ok(PacketSocket {
            fd,
            ring: ring.cast(),
            ring_len,
            block_size,
            block_nr: RING_BLOCKS,
            next_block: 0,
            iface: iface.clone(),
            snaplen,
            scratch: Vec::with_capacity(snaplen as usize + SLL2_LEN + 4),
        })
    }

    /// Attaches the kernel program (see [`kernel_program`]).
    pub fn attach(&mut self, user: Option<&[BpfInsn]>) -> Result<(), Error> {
        let kernel_snaplen = match self.iface.kind {
            LinkKind::Cooked => self.snaplen.saturating_sub(SLL2_LEN as u32),
            LinkKind::Ethernet => self.snaplen,
        };
        let mut prog = kernel_program(user, self.iface.skip_outgoing_on, kernel_snaplen);
        if prog.len() > MAX_INSNS {
            return Err(Error::Socket {
                op: "SO_ATTACH_FILTER",
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "program longer than 4096 instructions",
                ),
            });
        }
        let fprog = libc::sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_mut_ptr(),
        };
        check(
            setsockopt(&self.fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog),
            "SO_ATTACH_FILTER",
        )
    }

    /// Starts receiving: binds to the interface with ETH_P_ALL.
    pub fn bind(&self) -> Result<(), Error> {
        // SAFETY: sockaddr_ll is plain old data.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL.to_be();
        addr.sll_ifindex = self.iface.index as i32;
        // SAFETY: `addr` is a valid sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        check(rc, "bind")
    }

    /// Waits up to `timeout_ms` for a block; returns Err(Interrupted) on a signal.
    pub fn wait(&self, timeout_ms: i32) -> io::Result<()> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Kernel counters since the last call (reading resets them):
    /// (packets accepted, drops included; packets dropped).
    pub fn take_stats(&self) -> io::Result<(u64, u64)> {
        // SAFETY: tpacket_stats_v3 is plain old data.
        let mut st: libc::tpacket_stats_v3 = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: the kernel writes at most `len` bytes into `st`.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((u64::from(st.tp_packets), u64::from(st.tp_drops)))
    }

    /// Hands every packet of the next ready block to `each`, then returns
    /// the block to the kernel. Returns false when no block is ready.
    /// `each` may stop early with `ControlFlow::Break`; the rest of the
    /// block is then discarded.
    pub fn drain_block(&mut self, each: &mut dyn FnMut(&Frame<'_>) -> ControlFlow<()>) -> bool {
        // SAFETY: next_block < block_nr, so the block lies inside the mapping.
        let block = unsafe { self.ring.add(self.next_block * self.block_size) };
        // SAFETY: block_status is the aligned u32 at offset 8 of the block
        // descriptor, shared with the kernel; atomics order our accesses.
        let status: &AtomicU32 = unsafe { &*(block.add(8) as *const AtomicU32) };
        if status.load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
            return false;
        }
        // SAFETY: the block is ours until we hand it back; the descriptor
        // fields lie within its first 48 bytes.
        let (num_pkts, first) = unsafe {
            (
                std::ptr::read(block.add(12) as *const u32),
                std::ptr::read(block.add(16) as *const u32) as usize,
            )
        };
        // SAFETY: the kernel wrote this block and will not touch it until
        // we reset its status; the slice covers exactly the block.
        let bytes: &[u8] = unsafe { std::slice::from_raw_parts(block, self.block_size) };
        let mut off = first;
        for _ in 0..num_pkts {
            let Some(pkt) = Packet::parse(bytes, off) else {
                break;
            };
            if let Some(frame) = self.frame(bytes, &pkt) {
                if each(&frame).is_break() {
                    break;
                }
            }
            if pkt.next == 0 {
                break;
            }
            off += pkt.next;
        }
        status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.next_block = (self.next_block + 1) % self.block_nr;
        true
    }

    /// The frame for one ring packet, or None for a skipped one.
    fn frame<'a>(&'a mut self, block: &'a [u8], pkt: &Packet) -> Option<Frame<'a>> {
        if pkt.pkttype == libc::PACKET_OUTGOING && Some(pkt.ifindex) == self.iface.skip_outgoing_on
        {
            return None;
        }
        let data = block.get(pkt.data_start..pkt.data_start.checked_add(pkt.caplen)?)?;
        let ts = Some(Timestamp::from_nanos(
            i64::from(pkt.sec) * 1_000_000_000 + i64::from(pkt.nsec),
        ));
        let snaplen = self.snaplen as usize;
        let (data, orig_len) = match self.iface.kind {
            LinkKind::Cooked => {
                self.scratch.clear();
                self.scratch.extend_from_slice(&sll2_header(pkt));
                self.scratch.extend_from_slice(data);
                (
                    &self.scratch[..],
                    pkt.wire_len.saturating_add(SLL2_LEN as u32),
                )
            }
            LinkKind::Ethernet if pkt.vlan.is_some() && data.len() >= 12 => {
                let (tpid, tci) = pkt.vlan.unwrap_or_default();
                self.scratch.clear();
                self.scratch.extend_from_slice(&data[..12]);
                self.scratch.extend_from_slice(&tpid.to_be_bytes());
                self.scratch.extend_from_slice(&tci.to_be_bytes());
                self.scratch.extend_from_slice(&data[12..]);
                (&self.scratch[..], pkt.wire_len.saturating_add(4))
            }
            LinkKind::Ethernet => (data, pkt.wire_len),
        };
        let data = &data[..data.len().min(snaplen)];
        Some(Frame {
            index: 0,
            offset: 0,
            ts,
            link_type: self.iface.kind.link_type(),
            interface: 0,
            orig_len: orig_len.max(data.len() as u32),
            data,
        })
    }
}

impl Drop for PacketSocket {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `open` mapped; no borrow outlives `self`.
        unsafe { libc::munmap(self.ring.cast(), self.ring_len) };
    }
}

/// The fields of one `tpacket3_hdr` and its `sockaddr_ll` that we use.
struct Packet {
    next: usize,
    sec: u32,
    nsec: u32,
    caplen: usize,
    wire_len: u32,
    data_start: usize,
    vlan: Option<(u16, u16)>,
    protocol_be: [u8; 2],
    ifindex: u32,
    hatype: u16,
    pkttype: u8,
    halen: u8,
    addr: [u8; 8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl Packet {
    /// Reads the packet header at `off` in `block`, checking every offset.
    fn parse(block: &[u8], off: usize) -> Option<Packet> {
        // tpacket3_hdr: next_offset, sec, nsec, snaplen, len, status, mac(u16), net(u16),
        // hv1 { rxhash, vlan_tci(u32), vlan_tpid(u16), pad }, pad[8] = 48 bytes;
        // then sockaddr_ll at TPACKET_ALIGN(48) = 48.
        let status = u32_at(block, off + 20)?;
        let vlan = (status & libc::TP_STATUS_VLAN_VALID != 0).then(|| {
            let tci = u32_at(block, off + 32).unwrap_or(0) as u16;
            let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                u16_at(block, off + 36).unwrap_or(0x8100)
            } else {
                0x8100
            };
            (tpid, tci)
        });
        let sll = off + 48;
        let mut addr = [0u8; 8];
        addr.copy_from_slice(block.get(sll + 12..sll + 20)?);
        Some(Packet {
            next: u32_at(block, off)? as usize,
            sec: u32_at(block, off + 4)?,
            nsec: u32_at(block, off + 8)?,
            caplen: u32_at(block, off + 12)? as usize,
            wire_len: u32_at(block, off + 16)?,
            data_start: off + usize::from(u16_at(block, off + 24)?),
            vlan,
            protocol_be: block.get(sll + 2..sll + 4)?.try_into().ok()?,
            ifindex: u32_at(block, sll + 4)?,
            hatype: u16_at(block, sll + 8)?,
            pkttype: *block.get(sll + 10)?,
            halen: *block.get(sll + 11)?,
            addr,
        })
    }
}

/// The 20-byte LINKTYPE_LINUX_SLL2 header (all fields big-endian):
/// protocol, reserved, interface index, ARPHRD type, packet type,
/// address length, 8 address bytes.
fn sll2_header(p: &Packet) -> [u8; SLL2_LEN] {
    let mut h = [0u8; SLL2_LEN];
    h[0..2].copy_from_slice(&p.protocol_be);
    h[4..8].copy_from_slice(&p.ifindex.to_be_bytes());
    h[8..10].copy_from_slice(&p.hatype.to_be_bytes());
    h[10] = p.pkttype;
    h[11] = p.halen.min(8);
    h[12..20].copy_from_slice(&p.addr);
    h
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn program_without_filter_keeps_snaplen() {
        let p = kernel_program(None, None, 1500);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].code, p[0].k), (BPF_RET_K, 1500));
    }

    #[test]
    fn program_skips_lo_outgoing_then_runs_user_program() {
        let user = [
            BpfInsn {
                code: 0x28,
                jt: 0,
                jf: 0,
                k: 12,
            },
            BpfInsn {
                code: BPF_JEQ_K,
                jt: 0,
                jf: 1,
                k: 0x0800,
            },
            BpfInsn {
                code: BPF_RET_K,
                jt: 0,
                jf: 0,
                k: 262_144,
            },
            BpfInsn {
                code: BPF_RET_K,
                jt: 0,
                jf: 0,
                k: 0,
            },
        ];
        let p = kernel_program(Some(&user), Some(1), 96);
        assert_eq!(p.len(), 5 + 4);
        // pkttype == OUTGOING ? check ifindex : jump over to the user program
        assert_eq!(p[1].k, 4);
        assert_eq!(1 + 1 + p[1].jf as usize, 5);
        assert_eq!(p[3].k, 1);
        assert_eq!(3 + 1 + p[3].jt as usize, 4);
        assert_eq!((p[4].code, p[4].k), (BPF_RET_K, 0));
        assert_eq!(3 + 1 + p[3].jf as usize, 5);
        assert_eq!(p[7].k, 96, "accepting return clamped to snaplen");
        assert_eq!(p[8].k, 0, "rejecting return untouched");
        assert_eq!(p[6].jf, 1, "user jumps kept");
    }

    #[test]
    fn sll2_layout() {
        let p = Packet {
            next: 0,
            sec: 0,
            nsec: 0,
            caplen: 0,
            wire_len: 0,
            data_start: 0,
            vlan: None,
            protocol_be: [0x08, 0x00],
            ifindex: 2,
            hatype: 1,
            pkttype: 4,
            halen: 6,
            addr: [2, 0xfc, 0, 0, 0, 1, 0, 0],
        };
        assert_eq!(
            sll2_header(&p),
            [8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0xfc, 0, 0, 0, 1, 0, 0]
        );
    }

    #[test]
    fn parse_rejects_truncated_block() {
        assert!(Packet::parse(&[0u8; 40], 0).is_none());
        assert!(Packet::parse(&[0u8; 68], 0).is_some());
        assert!(Packet::parse(&[0u8; 68], 1).is_none());
    }
}
