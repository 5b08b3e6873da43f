//! Writing redacted records: pcap stays pcap (nanosecond timestamps);
//! pcapng becomes pcapng with one interface per link type and no options,
//! so comments, interface names and descriptions do not travel.

use std::io::Write;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapWriter, RawPcapPacket};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::simple_packet::SimplePacketBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, TsResolution};

use super::rewrite::{Error, Result};
use crate::pcap::{Format, LinkType};

const SNAPLEN: u32 = 262_144;

pub(super) enum Writer<'w> {
    /// Not started: the first record gives a pcap its link type.
    Pcap(Option<&'w mut dyn Write>),
    PcapOpen(PcapWriter<&'w mut dyn Write>, u32),
    Pcapng(PcapNgWriter<&'w mut dyn Write>, Vec<u32>),
    Failed,
}

fn pcap_err(e: pcap_file::PcapError) -> Error {
    match e {
        pcap_file::PcapError::IoError(source) => Error::Write(source),
        other => Error::Pcap(other.to_string()),
    }
}

impl<'w> Writer<'w> {
    pub(super) fn new(format: Format, out: &'w mut dyn Write) -> Writer<'w> {
        match format {
            Format::Pcapng => match PcapNgWriter::new(out) {
                Ok(w) => Writer::Pcapng(w, Vec::new()),
                Err(_) => Writer::Failed,
            },
            _ => Writer::Pcap(Some(out)),
        }
    }

    fn pcap_header(link: u32) -> PcapHeader {
        PcapHeader {
            version_major: 2,
            version_minor: 4,
            ts_correction: 0,
            ts_accuracy: 0,
            snaplen: SNAPLEN,
            datalink: DataLink::from(link),
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::Little,
        }
    }

    pub(super) fn record(
        &mut self,
        index: u64,
        link: LinkType,
        ts_nanos: Option<u64>,
        orig_len: u32,
        data: &[u8],
    ) -> Result<()> {
        if let Writer::Pcap(out) = self {
            let Some(out) = out.take() else {
                return Err(Error::Pcap("writer lost".into()));
            };
            let w = PcapWriter::with_header(out, Self::pcap_header(link.0)).map_err(pcap_err)?;
            *self = Writer::PcapOpen(w, link.0);
        }
        match self {
            Writer::PcapOpen(w, first) => {
                if *first != link.0 {
                    return Err(Error::MixedLinkTypes {
                        frame: index,
                        first: *first,
                        found: link.0,
                    });
                }
                // Raw, so a record whose captured length exceeds its
                // original length (the reader takes it) is kept as it was.
                let ts = Duration::from_nanos(ts_nanos.unwrap_or(0));
                let p = RawPcapPacket {
                    ts_sec: ts.as_secs() as u32,
                    ts_frac: ts.subsec_nanos(),
                    incl_len: data.len() as u32,
                    orig_len,
                    data: data.into(),
                };
                w.write_raw_packet(&p).map_err(pcap_err)?;
            }
            Writer::Pcapng(w, links) => {
                let interface = match links.iter().position(|&l| l == link.0) {
                    Some(i) => i,
                    None => {
                        let idb = InterfaceDescriptionBlock {
                            linktype: DataLink::from(link.0),
                            snaplen: SNAPLEN,
                            // Nanoseconds: the EPB below carries them.
                            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
                        };
                        w.write_pcapng_block(idb).map_err(pcap_err)?;
                        links.push(link.0);
                        links.len() - 1
                    }
                };
                match ts_nanos {
                    Some(ts) => {
                        let epb = EnhancedPacketBlock {
                            interface_id: interface as u32,
                            timestamp: Duration::from_nanos(ts),
                            original_len: orig_len,
                            data: data.into(),
                            options: Vec::new(),
                        };
                        w.write_pcapng_block(epb).map_err(pcap_err)?;
                    }
                    None => {
                        // A Simple Packet Block belongs to interface 0.
                        let spb = SimplePacketBlock {
                            original_len: orig_len,
                            data: data.into(),
                        };
                        w.write_pcapng_block(spb).map_err(pcap_err)?;
                    }
                }
            }
            Writer::Pcap(_) | Writer::Failed => {
                return Err(Error::Pcap("could not start the pcapng file".into()));
            }
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<()> {
        match self {
            Writer::Pcap(Some(out)) => {
                // No packets: an empty Ethernet pcap.
                let w = PcapWriter::with_header(out, Self::pcap_header(1)).map_err(pcap_err)?;
                w.into_writer().flush()?;
            }
            Writer::PcapOpen(w, _) => w.into_writer().flush()?,
            Writer::Pcapng(w, _) => w.into_inner().flush()?,
            Writer::Pcap(None) => {}
            Writer::Failed => return Err(Error::Pcap("could not start the pcapng file".into())),
        }
        Ok(())
    }
}
