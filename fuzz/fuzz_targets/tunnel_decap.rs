//! An IP or UDP payload through every tunnel decoder, then the packet it
//! carries through the link decoder it names (GRE, ERSPAN, VXLAN,
//! VXLAN-GPE, Geneve, GTP-U, IP in IP, EtherIP, MPLS in IP, and the
//! PPP/MPLS links behind them, with the shim hop a label stack or PPPoE
//! session names, which counts as a hop of the path but not a tunnel).
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use tracedeck::pcap::tunnel::{self, Decap};
use tracedeck::pcap::{decode, Frame};

const PROTOCOLS: [u8; 6] = [4, 41, 47, 97, 115, 137];
const PORTS: [u16; 5] = [4789, 8472, 6081, 4790, 2152];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    let i = usize::from(selector);
    let decap = if selector & 0x80 == 0 {
        tunnel::ip(a, b, PROTOCOLS[i % PROTOCOLS.len()], bytes)
    } else {
        tunnel::udp(a, b, PORTS[i % PORTS.len()], bytes)
    };
    if let Some(Decap::Inner { hop, link, data }) = decap {
        let _ = hop.to_string();
        let frame = Frame {
            index: 0,
            offset: 0,
            ts: None,
            link_type: link,
            interface: 0,
            orig_len: data.len() as u32,
            data,
        };
        let mut path = tunnel::Path::default();
        path.enter(hop);
        if let Ok(packet) = decode(&frame) {
            if let Some(shim) = packet.shim {
                // A shim is a hop shown, not a tunnel counted.
                path.enter_shim(tunnel::Hop::shim(shim));
                assert_eq!((path.depth(), path.tunnels()), (2, 1));
                let _ = path.to_string();
                path.leave_shim();
            }
        }
        path.leave();
        assert_eq!((path.depth(), path.tunnels()), (0, 0));
    }
});
