//! The HTTP exchange table: one row per request and its response (or what
//! was seen of them), as `analyze --json` prints it under `http` and
//! `/api/captures/ID/http` lists it. Adding a column here adds it to the
//! JSON, the store, the sort keys and (when a page lists it) the web table.

use std::net::{Ipv4Addr, SocketAddr};

use super::query::Order::{Asc, Desc};
use super::table::{Column, FilterOp, Unit};
use crate::analysis::{grpc_status_name, HttpExchange};
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
            .filter("host", FilterOp::Host),
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
                .filter("min_total_time", FilterOp::AtLeast)
                .filter_below("max_total_time"),
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
        // HTTP/2 streams only: absent from the JSON of HTTP/1.x rows.
        #[serde(skip_serializing_if = "Option::is_none")]
        http_version: Option<u16> = C::spec("HTTP", "HTTP major version (2 for an HTTP/2 stream)")
            .sorts(Asc)
            .filter("http", FilterOp::Equal),
        #[serde(skip_serializing_if = "Option::is_none")]
        stream_id: Option<u32> = C::spec("stream", "HTTP/2 stream id")
            .sorts(Asc)
            .filter("stream", FilterOp::Equal),
        /// RST_STREAM or GOAWAY that ended the stream, with its error code.
        #[serde(skip_serializing_if = "Option::is_none")]
        stream_end: Option<String> =
            C::spec("stream end", "RST_STREAM or GOAWAY that ended the stream"),
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String> = C::spec("note", "what made the exchange's fields partial"),
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_service: Option<String> = C::spec("gRPC service", "gRPC service, from the path")
            .sorts(Asc),
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_method: Option<String> = C::spec("gRPC method", "gRPC method, from the path")
            .sorts(Asc)
            .filter("grpc_method", FilterOp::Equal),
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_status: Option<u32> = C::spec("grpc-status", "gRPC status code of the trailers")
            .sorts(Asc)
            .filter("grpc", FilterOp::GrpcStatus),
        /// The status code's name (UNAVAILABLE, DEADLINE_EXCEEDED...).
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_status_name: Option<String> = C::spec("gRPC status", "gRPC status name"),
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_message: Option<String> = C::spec("grpc-message", "gRPC status message"),
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_timeout: Option<String> = C::spec("grpc-timeout", "deadline the client sent"),
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_requests: Option<u64> = C::spec("gRPC requests", "gRPC messages client to server"),
        #[serde(skip_serializing_if = "Option::is_none")]
        grpc_responses: Option<u64> =
            C::spec("gRPC responses", "gRPC messages server to client"),
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
            http_version: None,
            stream_id: None,
            stream_end: None,
            note: None,
            grpc_service: None,
            grpc_method: None,
            grpc_status: None,
            grpc_status_name: None,
            grpc_message: None,
            grpc_timeout: None,
            grpc_requests: None,
            grpc_responses: None,
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
        let stream = h.http2.unwrap_or_default();
        let grpc = stream.grpc.unwrap_or_default();
        let is_h2 = stream.stream_id != 0;
        let is_grpc = !grpc.service.is_empty() || grpc.status.is_some();
        let some_if = |yes: bool, s: String| (yes && !s.is_empty()).then_some(s);
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
            http_version: is_h2.then_some(2),
            stream_id: is_h2.then_some(stream.stream_id),
            stream_end: stream.end,
            note: stream.note,
            grpc_service: some_if(is_grpc, grpc.service),
            grpc_method: some_if(is_grpc, grpc.method),
            grpc_status: grpc.status,
            grpc_status_name: grpc
                .status
                .map(|s| grpc_status_name(s).map_or_else(|| s.to_string(), str::to_string)),
            grpc_message: grpc.message,
            grpc_timeout: grpc.timeout,
            grpc_requests: grpc.requests.filter(|_| is_grpc),
            grpc_responses: grpc.responses.filter(|_| is_grpc),
        }
    }
}

#[cfg(test)]
impl ExchangeRow {
    /// A row with every HTTP/2 and gRPC column filled.
    pub fn example_http2() -> ExchangeRow {
        ExchangeRow {
            http_version: Some(2),
            stream_id: Some(1),
            stream_end: Some("RST_STREAM CANCEL from the client".into()),
            note: Some("n".into()),
            grpc_service: Some("s".into()),
            grpc_method: Some("m".into()),
            grpc_status: Some(14),
            grpc_status_name: Some("UNAVAILABLE".into()),
            grpc_message: Some("down".into()),
            grpc_timeout: Some("1S".into()),
            grpc_requests: Some(1),
            grpc_responses: Some(0),
            ..ExchangeRow::default()
        }
    }
}
