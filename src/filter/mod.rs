//! The pcap-filter expression language (`port 8080`, `host 10.0.0.1 and not
//! port 22`): parse once, evaluate on frames in user space, compile to
//! classic BPF for the kernel.
//!
//! The meaning of every primitive follows libpcap 1.10 (what `tcpdump -r
//! FILE EXPR` prints), link type by link type: `port 80` skips non-first
//! IPv4 fragments and, for IPv6, only looks right after the fixed header;
//! `ip` does not look inside 802.1Q tags unless `vlan` came earlier in the
//! expression; a read past the captured bytes rejects the packet.
//!
//! ```
//! let f = tracedeck::filter::parse("tcp dst port 80 or 8080").unwrap();
//! assert_eq!(f.source(), "tcp dst port 80 or 8080");
//! let err = tracedeck::filter::parse("port 80 and").unwrap_err();
//! assert_eq!(err.to_string(), "expected a primitive after 'and' at column 12");
//! ```
//!
//! Layout: `lexer` and `parser` build the [`Expr`] tree (`ast`), with names
//! from `services`; `lower` turns it into byte-level predicates per link
//! type; `eval` runs those in user space and [`bpf`] compiles and
//! interprets classic BPF.
//!
//! The views of analysed results also take row predicates (`tls`, `sni
//! NAME`, `ja4 FP`, `decrypted`): [`split`] separates them from the packet
//! primitives ([`row`] says how).

mod ast;
pub mod bpf;
mod eval;
mod lexer;
mod lower;
mod parser;
pub mod row;
mod services;

pub use ast::{
    Arith, BinOp, Dir, Expr, Header, HostProto, MulticastLayer, PortProto, ProtoLayer, Protocol,
    RelOp,
};

pub use row::{split, RowExpr, RowPred, Split};

use crate::pcap::{Frame, LinkType};
use lower::{Family, Pred, FILE_FAMILIES};

/// A syntax or meaning error in a filter expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
pub struct ParseError {
    /// 1-based column (in characters) where the problem is.
    pub column: usize,
    /// What was expected or what is wrong.
    pub message: String,
    /// Byte offset of the same position.
    pub(crate) offset: usize,
}

impl ParseError {
    pub(crate) fn at(src: &str, offset: usize, message: &str) -> ParseError {
        let offset = offset.min(src.len());
        let column = src.get(..offset).map_or(offset, |s| s.chars().count()) + 1;
        ParseError {
            column,
            message: message.to_string(),
            offset,
        }
    }
}

/// Parses a filter expression. The empty expression matches everything.
pub fn parse(expr: &str) -> Result<Filter, ParseError> {
    let tree = parser::parse_expr(expr)?;
    let lowered = FILE_FAMILIES.map(|f| lower::lower(&tree, f, false));
    Ok(Filter {
        source: expr.to_string(),
        expr: tree,
        lowered,
    })
}

/// A parsed filter, ready to test frames.
#[derive(Clone, Debug)]
pub struct Filter {
    source: String,
    expr: Expr,
    /// Per link family (see `lower::FILE_FAMILIES`): the predicate, or why
    /// libpcap refuses the expression on that link type.
    lowered: [Result<Pred, String>; 8],
}

impl Filter {
    /// Whether `frame` matches, as `tcpdump -r` would decide it. Frames of
    /// link types the filter cannot apply to (and of link types this module
    /// does not know) do not match, unless the filter is empty.
    pub fn matches(&self, frame: &Frame<'_>) -> bool {
        if self.expr == Expr::True {
            return true;
        }
        let Some(family) = Family::of(frame.link_type) else {
            return false;
        };
        match &self.lowered[family.index()] {
            Ok(p) => eval::matches(
                p,
                &eval::Packet {
                    data: frame.data,
                    wire_len: frame.orig_len,
                    protocol: 0,
                },
            ),
            Err(_) => false,
        }
    }

    /// Why the filter can never match frames of `link_type` (libpcap
    /// refuses to compile it for that link type, e.g. `ether host` on raw
    /// IP), or `Ok` if it applies.
    pub fn check_link_type(&self, link_type: LinkType) -> Result<(), String> {
        if self.expr == Expr::True {
            return Ok(());
        }
        match Family::of(link_type) {
            None => Err(format!(
                "link type {} is not supported by the filter",
                link_type.0
            )),
            Some(f) => self.lowered[f.index()]
                .as_ref()
                .map(|_| ())
                .map_err(Clone::clone),
        }
    }

    /// The expression tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The text the filter was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests;
