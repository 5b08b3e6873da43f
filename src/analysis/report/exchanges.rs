//! The HTTP exchange table: one row per request and its response (or what
//! was seen of them), as `analyze --json` prints it under `http` and
//! `/api/captures/ID/http` lists it. Adding a column here adds it to the
//! JSON, the store, the sort keys and (when a page lists it) the web table.

use std::net::{Ipv4Addr, SocketAddr};

use super::query::Order::{Asc, Desc};
use super::table::{Column, FilterOp, Unit};
use crate::analysis::HttpExchange;
use crate::http::Wait;
use crate::time::{Span, Timestamp};

type C = Column<ExchangeRow>;

crate::table! {
    /// One HTTP exchange as `analyze --json` and `/api/.../http` show it.
    pub struct ExchangeRow in "http" {
        conversation: u64 = C::spec("conversation", "the conversation that carried it")
            .sorts(Asc)
            .filter("conversation", FilterOp::Equal),
        client: SocketAddr = C::spec("client", "the client's address").sorts(Asc),
        server: SocketAddr = C::spec("server", "the server's address").sorts(Asc),
        method: Option<String> = C::spec("method", "request method")
            .sorts(Asc)
            .filter("method", FilterOp::EqualUpper),
        uri: Option<String> = C::spec("URI", "request target").short("uri")
            .sorts(Asc)
            .filter("path", FilterOp::Contains),
        version: Option<String> = C::spec("version", "HTTP version of the request line"),
        host: Option<String> = C::spec("host", "Host header")
            .sorts(Asc)
            .filter("host", FilterOp::EqualNoCase),
        user_agent: Option<String> = C::spec("user agent", "User-Agent header"),
        status: Option<u16> = C::spec("status", "response status")
            .look("status")
            .sorts(Asc)
            .filter("status", FilterOp::Status),
        reason: Option<String> = C::spec("reason", "reason phrase of the status line"),
        request_start: Option<Timestamp> =
            C::spec("start", "request's first byte, from the start of the capture")
                .unit(Unit::Seconds)
                .indexed(Asc),
        request_end: Option<Timestamp> = C::spec("request end", "request's last byte")
            .unit(Unit::Seconds)
            .sorts(Asc),
        response_start: Option<Timestamp> = C::spec("response start", "response's first byte")
            .unit(Unit::Seconds)
            .sorts(Asc),
        response_end: Option<Timestamp> = C::spec("response end", "response's last byte")
            .unit(Unit::Seconds)
            .sorts(Asc),
        /// response_start - request_end: time to first byte.
        server_time: Option<Span> =
            C::spec("server", "request's last byte to response's first byte")
                .unit(Unit::Seconds)
                .indexed(Desc),
        /// response_end - request_start.
        total_time: Option<Span> =
            C::spec("total", "request's first byte to response's last byte")
                .unit(Unit::Seconds)
                .indexed(Desc)
                .filter("min_total_time", FilterOp::AtLeast),
        /// response_end - request_end (tshark's `http.time`).
        http_time: Option<Span> =
            C::spec("http.time", "request's last byte to response's last byte")
                .unit(Unit::Seconds),
        request_body_bytes: u64 = C::spec("request body", "request body bytes")
            .unit(Unit::Bytes)
            .sorts(Desc),
        response_body_bytes: u64 = C::spec("body", "response body bytes")
            .unit(Unit::Bytes)
            .sorts(Desc),
        content_type: Option<String> = C::spec("content type", "Content-Type of the response")
            .sorts(Asc),
        /// Who the exchange waited on: server, client, network, transfer, unknown.
        wait: Wait = C::spec("waited on", "who the exchange waited on"),
        /// Where the time went, in one sentence.
        verdict: String = C::spec("where the time went", "where the time went, in one sentence"),
        /// Statuses of interim (1xx) responses before the final one.
        interim: Vec<u16> = C::spec("interim", "interim (1xx) responses before the final one"),
        interrupted: bool = C::spec("interrupted", "the exchange was cut short"),
        has_gap: bool = C::spec("gap", "bytes of the exchange were never seen"),
        request_first_frame: Option<u64> = C::spec("request frame", "the request's first frame")
            .unit(Unit::Frame),
        request_last_frame: Option<u64> =
            C::spec("request last frame", "the request's last frame").unit(Unit::Frame),
        response_first_frame: Option<u64> =
            C::spec("response frame", "the response's first frame").unit(Unit::Frame),
        response_last_frame: Option<u64> =
            C::spec("response last frame", "the response's last frame").unit(Unit::Frame),
        /// Decrypted from TLS (absent from the JSON otherwise).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        tls: bool = C::spec("TLS", "decrypted from TLS with a key log"),
    }
    derived {}
}

impl Default for ExchangeRow {
    fn default() -> Self {
        let nowhere = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        ExchangeRow {
            conversation: 0,
            client: nowhere,
            server: nowhere,
            method: None,
            uri: None,
            version: None,
            host: None,
            user_agent: None,
            status: None,
            reason: None,
            request_start: None,
            request_end: None,
            response_start: None,
            response_end: None,
            server_time: None,
            total_time: None,
            http_time: None,
            request_body_bytes: 0,
            response_body_bytes: 0,
            content_type: None,
            wait: Wait::Unknown,
            verdict: String::new(),
            interim: Vec::new(),
            interrupted: false,
            has_gap: false,
            request_first_frame: None,
            request_last_frame: None,
            response_first_frame: None,
            response_last_frame: None,
            tls: false,
        }
    }
}

impl From<HttpExchange> for ExchangeRow {
    fn from(h: HttpExchange) -> Self {
        let (server_time, total_time, http_time) = (
            h.exchange.server_time(),
            h.exchange.total_time(),
            h.exchange.http_time(),
        );
        let e = h.exchange;
        ExchangeRow {
            conversation: h.conversation,
            client: h.client,
            server: h.server,
            method: e.method,
            uri: e.uri,
            version: e.version,
            host: e.host,
            user_agent: e.user_agent,
            status: e.status,
            reason: e.reason,
            request_start: e.request_start,
            request_end: e.request_end,
            response_start: e.response_start,
            response_end: e.response_end,
            server_time,
            total_time,
            http_time,
            request_body_bytes: e.request_body_bytes,
            response_body_bytes: e.response_body_bytes,
            content_type: e.content_type,
            wait: h.verdict.wait,
            verdict: h.verdict.text,
            interim: e.interim.iter().map(|i| i.status).collect(),
            interrupted: e.interrupted,
            has_gap: e.has_gap,
            request_first_frame: e.request_first_frame,
            request_last_frame: e.request_last_frame,
            response_first_frame: e.response_first_frame,
            response_last_frame: e.response_last_frame,
            tls: h.tls,
        }
    }
}
