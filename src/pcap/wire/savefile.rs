//! Capture-file header views: the pcap file header and record header
//! (tcpdump.org's pcap-savefile), and pcapng block headers (the pcapng
//! draft, §4), in the byte order of the machine that wrote the file.

use super::{need, Field, Header, Order, Result};

mod pcap_field {
    use super::Field;

    pub const MAGIC: Field = 0..4;
    pub const LINKTYPE: Field = 20..24;
}

mod record_field {
    use super::Field;

    pub const TS_SEC: Field = 0..4;
    pub const TS_FRAC: Field = 4..8;
    pub const INCL_LEN: Field = 8..12;
    pub const ORIG_LEN: Field = 12..16;
}

mod block_field {
    use super::Field;

    pub const TYPE: Field = 0..4;
    pub const LENGTH: Field = 4..8;
    /// Section header block: the byte-order magic.
    pub const SHB_MAGIC: Field = 8..12;
    /// Interface description block: the link type.
    pub const IDB_LINKTYPE: Field = 8..10;
    /// Simple packet block: the original length.
    pub const SPB_ORIG_LEN: Field = 8..12;
    /// Enhanced packet block fields.
    pub const EPB_INTERFACE: Field = 8..12;
    pub const EPB_TIMESTAMP: Field = 12..20;
    pub const EPB_CAPLEN: Field = 20..24;
    pub const EPB_ORIG_LEN: Field = 24..28;
}

/// Length of the pcap file header.
pub const PCAP_HEADER_LEN: usize = pcap_field::LINKTYPE.end;
/// Length of a pcap record header.
pub const RECORD_HEADER_LEN: usize = record_field::ORIG_LEN.end;
/// The smallest pcapng block: type, length, and the trailing length (or,
/// read from the front, the first word of the body).
pub const MIN_BLOCK_LEN: usize = block_field::SHB_MAGIC.end;
/// Where an enhanced packet block's packet data starts.
pub const EPB_DATA: usize = block_field::EPB_ORIG_LEN.end;
/// Where a simple packet block's packet data starts.
pub const SPB_DATA: usize = block_field::SPB_ORIG_LEN.end;

pub const BLOCK_SECTION_HEADER: u32 = 0x0A0D_0D0A;
pub const BLOCK_INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
/// The obsolete packet block.
pub const BLOCK_PACKET: u32 = 0x0000_0002;
pub const BLOCK_SIMPLE_PACKET: u32 = 0x0000_0003;
pub const BLOCK_ENHANCED_PACKET: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Bits of the pcap link type field that hold the link type (the upper
/// ones carry FCS information).
const LINKTYPE_MASK: u32 = 0x0fff_ffff;

/// The byte order a pcap file's magic number announces (microsecond or
/// nanosecond), or `None` when it is not a pcap magic.
pub fn pcap_order(magic: &[u8]) -> Option<Order> {
    match magic.get(pcap_field::MAGIC)? {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => Some(Order::Little),
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => Some(Order::Big),
        _ => None,
    }
}

view! {
    /// A read-only view of a pcap file header.
    PcapHeader, order: Order
}

impl<T: AsRef<[u8]>> PcapHeader<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::PcapFile, self.buffer.as_ref(), PCAP_HEADER_LEN)
    }

    /// The link type of every record (FCS bits masked off).
    #[inline]
    pub fn link_type(&self) -> u32 {
        self.order.u32(&self.buffer.as_ref()[pcap_field::LINKTYPE]) & LINKTYPE_MASK
    }
}

view! {
    /// A read-only view of a pcap record header.
    PcapRecord, order: Order
}

impl<T: AsRef<[u8]>> PcapRecord<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::PcapRecord, self.buffer.as_ref(), RECORD_HEADER_LEN)
    }

    /// Seconds and the fraction (micro- or nanoseconds, by the magic).
    #[inline]
    pub fn timestamp(&self) -> (u32, u32) {
        let data = self.buffer.as_ref();
        (
            self.order.u32(&data[record_field::TS_SEC]),
            self.order.u32(&data[record_field::TS_FRAC]),
        )
    }

    /// Bytes of the packet in the file.
    #[inline]
    pub fn captured_len(&self) -> u32 {
        self.order
            .u32(&self.buffer.as_ref()[record_field::INCL_LEN])
    }

    /// Length of the packet on the wire.
    #[inline]
    pub fn orig_len(&self) -> u32 {
        self.order
            .u32(&self.buffer.as_ref()[record_field::ORIG_LEN])
    }
}

/// The byte order of a pcapng section, from its section header block's
/// first bytes, or `None` when the byte-order magic is not there.
pub fn pcapng_order(section_header: &[u8]) -> Option<Order> {
    let magic = Order::Little.u32(section_header.get(block_field::SHB_MAGIC)?);
    if magic == BYTE_ORDER_MAGIC {
        Some(Order::Little)
    } else if magic.swap_bytes() == BYTE_ORDER_MAGIC {
        Some(Order::Big)
    } else {
        None
    }
}

view! {
    /// A read-only view of the front of a pcapng block: its type, its length
    /// and the first word of its body.
    Block, order: Order
}

impl<T: AsRef<[u8]>> Block<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::PcapngBlock, self.buffer.as_ref(), MIN_BLOCK_LEN)
    }

    #[inline]
    pub fn block_type(&self) -> u32 {
        self.order.u32(&self.buffer.as_ref()[block_field::TYPE])
    }

    /// The block's total length, as its header says.
    #[inline]
    pub fn block_len(&self) -> u32 {
        self.order.u32(&self.buffer.as_ref()[block_field::LENGTH])
    }

    /// For an interface description block: its link type.
    #[inline]
    pub fn interface_link_type(&self) -> u16 {
        self.order
            .u16(&self.buffer.as_ref()[block_field::IDB_LINKTYPE])
    }

    /// For a simple packet block: the packet's original length.
    #[inline]
    pub fn simple_packet_orig_len(&self) -> u32 {
        self.order
            .u32(&self.buffer.as_ref()[block_field::SPB_ORIG_LEN])
    }
}

view! {
    /// A read-only view of an enhanced packet block's fixed fields.
    EnhancedPacket, order: Order
}

impl<T: AsRef<[u8]>> EnhancedPacket<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::PcapngBlock, self.buffer.as_ref(), EPB_DATA)
    }

    #[inline]
    pub fn interface_id(&self) -> u32 {
        self.order
            .u32(&self.buffer.as_ref()[block_field::EPB_INTERFACE])
    }

    /// The timestamp's high and low words, in the interface's units.
    #[inline]
    pub fn timestamp(&self) -> (u32, u32) {
        let ts = &self.buffer.as_ref()[block_field::EPB_TIMESTAMP];
        (self.order.u32(&ts[..4]), self.order.u32(&ts[4..]))
    }

    #[inline]
    pub fn captured_len(&self) -> u32 {
        self.order
            .u32(&self.buffer.as_ref()[block_field::EPB_CAPLEN])
    }

    #[inline]
    pub fn orig_len(&self) -> u32 {
        self.order
            .u32(&self.buffer.as_ref()[block_field::EPB_ORIG_LEN])
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn pcap_headers_in_both_orders() {
        let mut le = vec![0xd4, 0xc3, 0xb2, 0xa1];
        le.extend_from_slice(&[0; 16]);
        le.extend_from_slice(&(0x1000_0001u32).to_le_bytes());
        assert_eq!(pcap_order(&le), Some(Order::Little));
        let h = PcapHeader::new_checked(&le[..], Order::Little).unwrap();
        assert_eq!(h.link_type(), 1);
        assert_eq!(pcap_order(&[0xa1, 0xb2, 0x3c, 0x4d]), Some(Order::Big));
        assert_eq!(pcap_order(b"PK\x03\x04"), None);
        assert_eq!(pcap_order(&[0xa1]), None);
        for len in 0..PCAP_HEADER_LEN {
            assert!(PcapHeader::new_checked(&le[..len], Order::Little).is_err());
        }
    }

    #[test]
    fn record_header() {
        let mut r = Vec::new();
        for w in [1u32, 2, 60, 1514] {
            r.extend_from_slice(&w.to_be_bytes());
        }
        let rec = PcapRecord::new_checked(&r[..], Order::Big).unwrap();
        assert_eq!(
            (rec.timestamp(), rec.captured_len(), rec.orig_len()),
            ((1, 2), 60, 1514)
        );
        for len in 0..RECORD_HEADER_LEN {
            assert!(PcapRecord::new_checked(&r[..len], Order::Big).is_err());
        }
    }

    #[test]
    fn blocks() {
        let mut b = Vec::new();
        for w in [BLOCK_ENHANCED_PACKET, 36, 2, 0, 7, 3, 60] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        let block = Block::new_checked(&b[..], Order::Little).unwrap();
        assert_eq!(
            (block.block_type(), block.block_len()),
            (BLOCK_ENHANCED_PACKET, 36)
        );
        let epb = EnhancedPacket::new_checked(&b[..], Order::Little).unwrap();
        assert_eq!(
            (
                epb.interface_id(),
                epb.timestamp(),
                epb.captured_len(),
                epb.orig_len()
            ),
            (2, (0, 7), 3, 60)
        );
        for len in 0..EPB_DATA {
            assert_eq!(
                Block::new_checked(&b[..len], Order::Little).is_ok(),
                len >= 12
            );
            assert!(EnhancedPacket::new_checked(&b[..len], Order::Little).is_err());
        }
        let mut shb = Vec::new();
        shb.extend_from_slice(&BLOCK_SECTION_HEADER.to_be_bytes());
        shb.extend_from_slice(&28u32.to_be_bytes());
        shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_be_bytes());
        assert_eq!(pcapng_order(&shb), Some(Order::Big));
        assert_eq!(pcapng_order(&shb[..11]), None);
    }
}
