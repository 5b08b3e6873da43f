//! `tracedeck capture -D`: the interfaces a capture can use, numbered and
//! flagged like `tcpdump -D` prints them, read from /sys/class/net.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// `IFF_UP` and `IFF_LOOPBACK` of `<linux/if.h>`, as /sys/class/net/NAME/flags
/// shows them (it never shows `IFF_RUNNING`: that is the `carrier` file).
const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;

/// One network interface as the kernel describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    /// The `IFF_*` flags.
    pub flags: u32,
    /// Up with a carrier (/sys/class/net/NAME/carrier is 1).
    pub running: bool,
    /// `up`, `down`, `unknown` (/sys/class/net/NAME/operstate).
    pub operstate: String,
}

impl Interface {
    /// The words `tcpdump -D` puts in brackets.
    pub fn flag_words(&self) -> Vec<&'static str> {
        let mut words = Vec::new();
        if self.flags & IFF_UP != 0 {
            words.push("Up");
        }
        if self.running {
            words.push("Running");
        }
        if self.flags & IFF_LOOPBACK != 0 {
            words.push("Loopback");
        } else {
            match self.operstate.as_str() {
                "up" => words.push("Connected"),
                "down" | "lowerlayerdown" | "notpresent" => words.push("Disconnected"),
                _ => {}
            }
        }
        words
    }
}

/// Reads one interface's directory under /sys/class/net.
fn read_one(dir: &Path) -> io::Result<Interface> {
    let text = |file: &str| -> io::Result<String> {
        Ok(fs::read_to_string(dir.join(file))?.trim().to_string())
    };
    let bad = |file: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: unreadable {file}", dir.display()),
        )
    };
    let index = text("ifindex")?.parse().map_err(|_| bad("ifindex"))?;
    let flags_text = text("flags")?;
    let flags =
        u32::from_str_radix(flags_text.trim_start_matches("0x"), 16).map_err(|_| bad("flags"))?;
    Ok(Interface {
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        index,
        flags,
        // Reading `carrier` fails while the interface is down.
        running: text("carrier").is_ok_and(|c| c == "1"),
        operstate: text("operstate").unwrap_or_default(),
    })
}

/// The interfaces under `root` (normally /sys/class/net), by index.
pub fn list(root: &Path) -> io::Result<Vec<Interface>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(root)? {
        let dir = entry?.path();
        // Not every entry is an interface: with bonding loaded,
        // `bonding_masters` is a plain file there.
        if !dir.join("ifindex").exists() {
            continue;
        }
        out.push(
            read_one(&dir)
                .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", dir.display())))?,
        );
    }
    out.sort_by_key(|i| i.index);
    Ok(out)
}

/// The names `-D` numbers: the interfaces by index, then `any`.
fn numbered(interfaces: &[Interface]) -> impl Iterator<Item = (usize, &str)> {
    interfaces
        .iter()
        .map(|i| i.name.as_str())
        .chain(std::iter::once("any"))
        .enumerate()
        .map(|(n, name)| (n + 1, name))
}

/// Prints the listing: `1.eth0 [Up, Running, Connected]`, as `tcpdump -D`.
pub fn print(w: &mut impl Write, interfaces: &[Interface]) -> io::Result<()> {
    for (n, name) in numbered(interfaces) {
        match interfaces.iter().find(|i| i.name == name) {
            Some(i) => writeln!(w, "{n}.{name} [{}]", i.flag_words().join(", "))?,
            None => writeln!(
                w,
                "{n}.{name} (Pseudo-device that captures on all interfaces) [Up, Running]"
            )?,
        }
    }
    Ok(())
}

/// The interface `-i N` names by its number in the `-D` listing.
pub fn by_number(interfaces: &[Interface], number: usize) -> Option<String> {
    numbered(interfaces)
        .find(|(n, _)| *n == number)
        .map(|(_, name)| name.to_string())
}

#[cfg(test)]
mod test {
    use super::*;

    fn iface(name: &str, index: u32, flags: u32, operstate: &str) -> Interface {
        Interface {
            name: name.into(),
            index,
            flags,
            running: operstate != "down",
            operstate: operstate.into(),
        }
    }

    #[test]
    fn lists_like_tcpdump() {
        let all = [
            iface("lo", 1, 0x9, "unknown"),
            iface("eth0", 2, 0x1003, "up"),
            iface("eth1", 3, 0x1002, "down"),
        ];
        let mut out = Vec::new();
        print(&mut out, &all).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1.lo [Up, Running, Loopback]\n\
             2.eth0 [Up, Running, Connected]\n\
             3.eth1 [Disconnected]\n\
             4.any (Pseudo-device that captures on all interfaces) [Up, Running]\n"
        );
        assert_eq!(by_number(&all, 2).as_deref(), Some("eth0"));
        assert_eq!(by_number(&all, 4).as_deref(), Some("any"));
        assert_eq!(by_number(&all, 5), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_sysfs() {
        let all = list(Path::new("/sys/class/net")).unwrap();
        let lo = all.iter().find(|i| i.name == "lo").expect("lo is listed");
        assert!(lo.flag_words().contains(&"Loopback"), "{lo:?}");
    }

    #[test]
    fn entries_that_are_not_interfaces_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("bonding_masters"), "").unwrap();
        let lo = root.path().join("lo");
        std::fs::create_dir(&lo).unwrap();
        for (f, v) in [("ifindex", "1"), ("flags", "0x9"), ("operstate", "unknown")] {
            std::fs::write(lo.join(f), v).unwrap();
        }
        let all = list(root.path()).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].name, "lo");
    }
}
