//! 802.11 with a radiotap header (LINKTYPE_IEEE802_11_RADIOTAP): the
//! radiotap header view, the 802.11 MAC header view (IEEE 802.11-2020
//! §9.2.3) and the LLC/SNAP header (RFC 1042) that carries an ethertype.

use super::{be16, need, Error, Field, Header, Order, Result};

mod radiotap_field {
    use super::Field;

    pub const VERSION: usize = 0;
    pub const LENGTH: Field = 2..4;
}

mod field {
    pub const FRAME_CONTROL: usize = 0;
    pub const FLAGS: usize = 1;
}

mod snap_field {
    use super::Field;

    pub const PREFIX: Field = 0..6;
    pub const ETHERTYPE: Field = 6..8;
}

/// The radiotap bytes read: version, pad, length.
pub const RADIOTAP_MIN: usize = radiotap_field::LENGTH.end;
/// Frame control and flags: enough to know the header's length.
pub const FRAME_CONTROL_LEN: usize = field::FLAGS + 1;
/// MAC header of a data frame with three addresses.
const DATA_HEADER_LEN: usize = 24;
/// A fourth address, when the frame goes between two distribution systems.
const ADDR4_LEN: usize = 6;
/// QoS control of QoS data subtypes.
const QOS_LEN: usize = 2;
const TYPE_DATA: u8 = 2;
const SUBTYPE_NULL: u8 = 0x4;
const SUBTYPE_QOS: u8 = 0x8;
const TO_DS_FROM_DS: u8 = 0x3;

/// LLC (DSAP, SSAP, control) and a zero OUI: an ethertype follows.
const SNAP_PREFIX: [u8; 6] = [0xaa, 0xaa, 0x03, 0, 0, 0];
/// Length of an LLC/SNAP header.
pub const SNAP_HEADER_LEN: usize = snap_field::ETHERTYPE.end;

view! {
    /// A read-only view of a radiotap header and the 802.11 frame after it.
    Radiotap
}

impl<T: AsRef<[u8]>> Radiotap<T> {
    /// Checks the length field and that the header it announces was
    /// captured. A length under the fixed part is taken as it stands (the
    /// 802.11 frame then starts inside it), as before this view existed.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        need(Header::Radiotap, data, RADIOTAP_MIN)?;
        need(Header::Radiotap, data, self.header_len())
    }

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[radiotap_field::VERSION]
    }

    /// The radiotap header's length (little-endian, as all its fields).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(Order::Little.u16(&self.buffer.as_ref()[radiotap_field::LENGTH]))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Radiotap<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

view! {
    /// A read-only view of an 802.11 frame.
    Frame
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Checks frame control and flags; the rest of the MAC header, whose
    /// length they decide, is checked by [`Frame::payload`].
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Ieee80211, self.buffer.as_ref(), FRAME_CONTROL_LEN)
    }

    #[inline]
    fn frame_control(&self) -> u8 {
        self.buffer.as_ref()[field::FRAME_CONTROL]
    }

    #[inline]
    fn subtype(&self) -> u8 {
        self.frame_control() >> 4
    }

    /// A data frame that carries data (not a null-data frame).
    #[inline]
    pub fn has_data(&self) -> bool {
        (self.frame_control() >> 2) & 0x3 == TYPE_DATA && self.subtype() & SUBTYPE_NULL == 0
    }

    /// Length of a data frame's MAC header.
    #[inline]
    pub fn header_len(&self) -> usize {
        let mut len = DATA_HEADER_LEN;
        if self.buffer.as_ref()[field::FLAGS] & TO_DS_FROM_DS == TO_DS_FROM_DS {
            len += ADDR4_LEN;
        }
        if self.subtype() & SUBTYPE_QOS != 0 {
            len += QOS_LEN;
        }
        len
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// A data frame's body, once its whole MAC header is known captured.
    #[inline]
    pub fn payload(&self) -> Result<&'a [u8]> {
        let data = self.buffer.as_ref();
        data.get(self.header_len()..).ok_or(Error::truncated(
            Header::Ieee80211,
            self.header_len(),
            data.len(),
        ))
    }
}

/// Whether `bytes` start with an LLC/SNAP header that announces an
/// ethertype (RFC 1042 encapsulation).
#[inline]
pub fn is_snap(bytes: &[u8]) -> bool {
    bytes.get(snap_field::PREFIX) == Some(&SNAP_PREFIX[..])
}

view! {
    /// A read-only view of an LLC/SNAP header and what follows.
    LlcSnap
}

impl<T: AsRef<[u8]>> LlcSnap<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::LlcSnap, self.buffer.as_ref(), SNAP_HEADER_LEN)
    }

    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(&self.buffer.as_ref()[snap_field::ETHERTYPE])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> LlcSnap<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[SNAP_HEADER_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// Radiotap (8 bytes), a QoS data frame from the DS (26-byte header),
    /// LLC/SNAP for IPv4, one IP byte.
    fn frame() -> Vec<u8> {
        let mut b = vec![0, 0, 8, 0, 0, 0, 0, 0];
        b.extend_from_slice(&[0x88, 0x02]);
        b.extend_from_slice(&[0; 24]);
        b.extend_from_slice(&SNAP_PREFIX);
        b.extend_from_slice(&[0x08, 0x00, 0x45]);
        b
    }

    #[test]
    fn radiotap_data_frame_snap() {
        let b = frame();
        let rt = Radiotap::new_checked(&b[..]).unwrap();
        assert_eq!((rt.version(), rt.header_len()), (0, 8));
        let wifi = Frame::new_checked(rt.payload()).unwrap();
        assert!(wifi.has_data());
        assert_eq!(wifi.header_len(), 26);
        let llc = wifi.payload().unwrap();
        assert!(is_snap(llc));
        let snap = LlcSnap::new_checked(llc).unwrap();
        assert_eq!((snap.ethertype(), snap.payload()), (0x0800, &[0x45][..]));
    }

    #[test]
    fn truncated_at_every_length() {
        let b = frame();
        for len in 0..b.len() {
            let cut = &b[..len];
            let Ok(rt) = Radiotap::new_checked(cut) else {
                assert!(len < 8, "{len}");
                continue;
            };
            let Ok(wifi) = Frame::new_checked(rt.payload()) else {
                assert!(len < 10, "{len}");
                continue;
            };
            let Ok(llc) = wifi.payload() else {
                assert!(len < 34, "{len}");
                continue;
            };
            assert_eq!(is_snap(llc), len >= 40, "{len}");
            assert_eq!(LlcSnap::new_checked(llc).is_ok(), len >= 42, "{len}");
        }
    }

    #[test]
    fn overlong_radiotap_and_null_data() {
        let mut b = frame();
        b[2] = 200;
        assert!(Radiotap::new_checked(&b[..]).is_err());
        let null_data = [0x48u8, 0x01];
        assert!(!Frame::new_checked(&null_data[..]).unwrap().has_data());
        let beacon = [0x80u8, 0x00];
        assert!(!Frame::new_checked(&beacon[..]).unwrap().has_data());
    }
}
