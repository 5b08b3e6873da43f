//! The HTTP/1.x analyzer: its probe (which streams the HTTP parser must
//! see), the analyzer around [`http::Parser`], and its record,
//! [`HttpExchange`].

use std::net::SocketAddr;

use serde::Serialize;

use crate::flow::{Conversation, Dir, StreamSink};
use crate::http::{self, Exchange, ExchangeFacts, Opening, Verdict};
use crate::time::Timestamp;

use super::http2::{self, Http2, StreamFacts};
use super::protocol::{Context, Emit, Probe, StreamAnalyzer, Tally};
use super::record::Record;
use super::OutputError;

/// The name this analyzer registers under and the conversations it
/// recognised report as their protocol.
pub const NAME: &str = "http";

/// One HTTP exchange with its place in the capture and its verdict.
#[derive(Clone, Debug, Serialize)]
pub struct HttpExchange {
    /// Id of the conversation that carried it.
    pub conversation: u64,
    /// The side that sent the request.
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub exchange: Exchange,
    pub facts: ExchangeFacts,
    pub verdict: Verdict,
    /// The HTTP/2 stream that carried it (`None` for HTTP/1.x).
    pub http2: Option<StreamFacts>,
    /// Decrypted from TLS (set by the TLS analyzer that ran this one).
    pub tls: bool,
}

/// HTTP exchanges of a conversation (0 unless the HTTP analyzer ran on it,
/// directly or inside TLS).
pub fn http_exchanges(conv: &Conversation) -> u64 {
    if conv.app.protocol == Some(NAME)
        || conv.app.protocol == Some(super::http2::NAME)
        || conv.app.protocol == Some(super::tls::NAME)
    {
        conv.app.records
    } else {
        0
    }
}

/// Whether a stream starting with `first_bytes` may hold HTTP/1.x.
///
/// The parser recognises HTTP by content and resynchronises on its own,
/// so this probe errs on its side: `Yes` for every stream from which the
/// parser could take a message, `No` only when the parser would give the
/// direction up too. That is: a request or status line at the start
/// (after empty lines); else an `HTTP/1.` anywhere in the bytes seen (the
/// parser searches for a message start); `No` for a TLS record header, or
/// when [`http::Limits::sniff_budget`] bytes past the failed start line
/// hold no `HTTP/1.`.
pub fn probe(_dir: Dir, first_bytes: &[u8]) -> Probe {
    let Some(lead) = first_bytes.iter().position(|&b| b != b'\r' && b != b'\n') else {
        return Probe::NeedMore;
    };
    let line = &first_bytes[lead..];
    let failed_at = match http::opening(line) {
        Opening::Message => return Probe::Yes,
        Opening::Undecided => return Probe::NeedMore,
        Opening::NotMessage { at } => at,
    };
    if (0x14..=0x17).contains(&line[0]) {
        // A TLS record: the parser puts such a direction to sleep at once.
        return Probe::No;
    }
    if memchr::memmem::find(line, b"HTTP/1.").is_some() {
        return Probe::Yes;
    }
    let searched = (line.len() - failed_at) as u64;
    if searched >= http::Limits::default().sniff_budget {
        Probe::No
    } else {
        Probe::NeedMore
    }
}

/// Builds the analyzer (the registry's constructor).
pub fn new() -> Box<dyn StreamAnalyzer> {
    Box::new(Http1::default())
}

/// The HTTP/1.x analyzer of one TCP conversation.
pub struct Http1 {
    parser: http::Parser<Vec<Exchange>>,
    tally: Tally,
    /// After a 101: the request that switched protocols, until the next
    /// bytes show whether they are HTTP/2 (`Upgrade: h2c`).
    switched: Option<Box<Exchange>>,
    /// The HTTP/2 connection an `Upgrade: h2c` switched to (RFC 7540
    /// §3.2); it gets every byte from then on.
    h2c: Option<Box<Http2>>,
}

impl Default for Http1 {
    fn default() -> Self {
        Http1 {
            parser: http::Parser::new(Vec::new()),
            tally: Tally::default(),
            switched: None,
            h2c: None,
        }
    }
}

impl Http1 {
    /// Bytes after a 101: HTTP/2 (the client preface, or the server's
    /// SETTINGS) hands the connection to the HTTP/2 analyzer.
    fn after_switch(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let Some(request) = self.switched.take() else {
            return;
        };
        if http2::probe(dir, bytes) == Probe::Yes {
            let mut h2 = Box::new(Http2::after_upgrade(&request));
            h2.data(dir, ts, frame, bytes);
            self.h2c = Some(h2);
        }
    }
}

impl StreamSink for Http1 {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        if let Some(h2) = &mut self.h2c {
            return h2.data(dir, ts, frame, bytes);
        }
        if self.switched.is_some() {
            return self.after_switch(dir, ts, frame, bytes);
        }
        let before = self.parser.sink().len();
        self.parser.data(dir, ts, frame, bytes);
        let switched = self.parser.sink()[before..]
            .iter()
            .find(|e| e.upgraded && e.status == Some(101));
        if let Some(request) = switched {
            self.switched = Some(Box::new(request.clone()));
            // What follows the 101's head in the same chunk.
            let status = memchr::memmem::find(bytes, b" 101").unwrap_or(0);
            if let Some(end) = memchr::memmem::find(&bytes[status..], b"\r\n\r\n") {
                let rest = &bytes[status + end + 4..];
                if !rest.is_empty() {
                    self.after_switch(dir, ts, frame, rest);
                }
            }
        }
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        match &mut self.h2c {
            Some(h2) => h2.gap(dir, ts, frame, len),
            None => self.parser.gap(dir, ts, frame, len),
        }
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        match &mut self.h2c {
            Some(h2) => h2.fin(dir, ts, frame),
            None => self.parser.fin(dir, ts, frame),
        }
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        match &mut self.h2c {
            Some(h2) => h2.reset(dir, ts, frame),
            None => self.parser.reset(dir, ts, frame),
        }
    }

    fn held(&mut self, dir: Dir, since: Timestamp, ts: Timestamp) {
        if let Some(h2) = &mut self.h2c {
            h2.held(dir, since, ts);
        }
    }
}

impl StreamAnalyzer for Http1 {
    fn finish(&mut self, ts: Timestamp) {
        self.parser.finish(ts);
        if let Some(h2) = &mut self.h2c {
            h2.finish(ts);
        }
    }

    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        if let Some(h2) = &mut self.h2c {
            h2.drain(cx, emit)?;
        }
        if self.parser.sink().is_empty() {
            return Ok(());
        }
        let done = std::mem::take(self.parser.sink_mut());
        for exchange in done {
            emit_exchange(cx, emit, &mut self.tally, exchange, None)?;
        }
        Ok(())
    }

    fn tally(&self) -> Tally {
        let h2 = self.h2c.as_ref().map(|h2| h2.tally()).unwrap_or_default();
        Tally {
            confirmed: self.parser.is_http(),
            records: self.tally.records + h2.records,
            reversed: self.tally.reversed + h2.reversed,
        }
    }
}

/// Judges a finished exchange and emits it as a record, counting it in
/// `tally` (HTTP/1.x and HTTP/2 streams alike).
pub(super) fn emit_exchange(
    cx: &Context<'_>,
    emit: &mut dyn Emit,
    tally: &mut Tally,
    exchange: Exchange,
    http2: Option<StreamFacts>,
) -> Result<(), OutputError> {
    let conv = cx.conv;
    let (client, server) = match exchange.request_dir {
        Dir::ToServer => (conv.client, conv.server),
        Dir::ToClient => {
            tally.reversed += 1;
            (conv.server, conv.client)
        }
    };
    let facts = exchange_facts(cx, &exchange);
    let verdict = match &http2 {
        Some(stream) => http::judge_stream(&exchange, &facts, &stream.wait),
        None => http::judge(&exchange, &facts),
    };
    tally.records += 1;
    emit.record(Record::Http(HttpExchange {
        conversation: conv.id,
        client,
        server,
        exchange,
        facts,
        verdict,
        http2,
        tls: false,
    }))
}

/// TCP trouble of each side within the exchange's time window.
fn exchange_facts(cx: &Context<'_>, ex: &Exchange) -> ExchangeFacts {
    let start = ex.request_start.or(ex.response_start);
    let end = ex.response_end.or(ex.end.map(|e| e.ts)).or(ex.request_end);
    match (start, end) {
        (Some(start), Some(end)) => cx.trouble.facts(start, end, ex.request_dir),
        _ => ExchangeFacts::default(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn probe_both(bytes: &[u8]) -> Probe {
        let to_server = probe(Dir::ToServer, bytes);
        assert_eq!(
            to_server,
            probe(Dir::ToClient, bytes),
            "direction matters not"
        );
        to_server
    }

    #[test]
    fn a_request_or_status_line_is_http() {
        assert_eq!(probe_both(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Probe::Yes);
        assert_eq!(probe_both(b"GET "), Probe::Yes, "a known method decides");
        assert_eq!(probe_both(b"HTTP/1.1 200 OK\r\n"), Probe::Yes);
        assert_eq!(probe_both(b"BREW /pot HTTP/1.1\r\n"), Probe::Yes);
        // Empty lines before the first message are allowed.
        assert_eq!(probe_both(b"\r\n\r\nPOST /x HTTP/1.0\r\n"), Probe::Yes);
    }

    #[test]
    fn a_cut_start_line_needs_more() {
        assert_eq!(probe_both(b""), Probe::NeedMore);
        assert_eq!(probe_both(b"\r\n"), Probe::NeedMore);
        assert_eq!(probe_both(b"GE"), Probe::NeedMore);
        assert_eq!(probe_both(b"HTTP/1.1 "), Probe::NeedMore);
        assert_eq!(probe_both(b"BREW /pot HTT"), Probe::NeedMore);
    }

    #[test]
    fn a_tls_record_is_not_http() {
        assert_eq!(
            probe_both(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
            Probe::No
        );
        assert_eq!(probe_both(b"\x17\x03\x03\x00\x20"), Probe::No);
    }

    #[test]
    fn other_bytes_are_searched_as_the_parser_searches_them() {
        // A capture that starts mid-body: the next message is found.
        assert_eq!(probe_both(b"}]}\n\x00\x01HTTP/1.1 200 OK\r\n"), Probe::Yes);
        // Garbage before a request.
        assert_eq!(probe_both(b"xyzzy\r\nGET /a HTTP/1.1\r\n"), Probe::Yes);
        // Text that may still lead to HTTP (a proxy handshake, a banner).
        let banner = b"SSH-2.0-OpenSSH_9.6\r\n".to_vec();
        assert_eq!(probe_both(&banner), Probe::NeedMore);
        // Past the parser's sniff budget without a message: given up.
        let mut long = banner.clone();
        long.resize(9 * 1024, b'x');
        assert_eq!(probe_both(&long), Probe::No);
        let mut binary = vec![0u8; 9 * 1024];
        binary[0] = 0x05; // a SOCKS greeting, then nothing like HTTP
        assert_eq!(probe_both(&binary), Probe::No);
    }
}
