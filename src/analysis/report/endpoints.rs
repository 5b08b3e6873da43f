//! The endpoint table: one row per (method, host, URL template), the HTTP
//! exchanges grouped as `analyze --endpoints` prints them and
//! `/api/captures/ID/endpoints` lists them (README, "Endpoints"). The rows
//! are made by [`crate::analysis::endpoints`].

use super::query::Order::{Asc, Desc};
use super::table::{Column, FilterOp, Unit};
use crate::time::{Span, Timestamp};

type C = Column<EndpointRow>;

/// [`EndpointRow::percentiles`] values.
pub mod precision {
    /// Every value was kept: the percentiles are the values' own.
    pub const EXACT: &str = "exact";
    /// More than a million values: a DDSketch, within 1% of the value.
    pub const SKETCH: &str = "sketch ±1%";
}

crate::table! {
    /// One endpoint: the exchanges of one method, host and URL template.
    pub struct EndpointRow in "endpoints" {
        method: Option<String> = C::spec("method", "request method")
            .sorts(Asc)
            .filter("method", FilterOp::EqualUpper),
        host: Option<String> = C::spec("host", "Host header")
            .sorts(Asc)
            .filter("host", FilterOp::Host),
        /// `/users/{id}/orders`: the path with its varying parts named.
        template: String = C::spec("template", "URL path with its varying parts named")
            .sorts(Asc)
            .filter("template", FilterOp::Contains),
        /// How the template was made (`{id}: a number; ...`, `literal`).
        rule: String = C::spec("rule", "what made the template"),
        /// The query's keys seen on the endpoint, sorted, comma-separated.
        query_keys: String = C::spec("query keys", "query string keys seen, sorted"),
        count: u64 = C::spec("exchanges", "exchanges of the endpoint").short("n").indexed(Desc),
        /// Exchanges whose response was a 4xx.
        status_4xx: u64 = C::spec("4xx", "responses 400-499").sorts(Desc),
        status_5xx: u64 = C::spec("5xx", "responses 500-599").sorts(Desc),
        /// Requests without a response (and not reset).
        no_response: u64 = C::spec("no response", "requests never answered").short("nores")
            .sorts(Desc),
        /// Exchanges cut by a TCP reset or an HTTP/2 RST_STREAM.
        reset: u64 = C::spec("reset", "exchanges cut by a reset").sorts(Desc),
        /// 4xx + 5xx + no response + reset.
        errors: u64 = C::spec("errors", "4xx, 5xx, no response and resets").short("err")
            .sorts(Desc),
        server_p50: Option<Span> = C::spec("server p50", "median time to first byte")
            .short("srv p50").unit(Unit::Seconds).sorts(Desc),
        server_p90: Option<Span> = C::spec("server p90", "90th percentile time to first byte")
            .short("srv p90").unit(Unit::Seconds).sorts(Desc),
        server_p99: Option<Span> = C::spec("server p99", "99th percentile time to first byte")
            .short("srv p99").unit(Unit::Seconds).sorts(Desc),
        server_max: Option<Span> = C::spec("server max", "slowest time to first byte")
            .short("srv max").unit(Unit::Seconds).sorts(Desc),
        total_p50: Option<Span> = C::spec("total p50", "median request start to response end")
            .short("p50").unit(Unit::Seconds).sorts(Desc),
        total_p90: Option<Span> = C::spec("total p90", "90th percentile total time")
            .short("p90").unit(Unit::Seconds).sorts(Desc),
        total_p99: Option<Span> = C::spec("total p99", "99th percentile total time")
            .short("p99").unit(Unit::Seconds).indexed(Desc),
        total_max: Option<Span> = C::spec("total max", "slowest total time")
            .short("max").unit(Unit::Seconds).sorts(Desc),
        /// `exact`, or `sketch ±1%` past a million values ([`precision`]).
        percentiles: String = C::spec("percentiles", "exact, or a sketch within 1%")
            .short("pct"),
        request_bytes: u64 = C::spec("request bytes", "request body bytes, all exchanges")
            .short("req B").unit(Unit::Bytes).sorts(Desc),
        response_bytes: u64 = C::spec("response bytes", "response body bytes, all exchanges")
            .short("resp B").unit(Unit::Bytes).sorts(Desc),
        /// Exchanges by who they waited on (the `wait` column of the exchanges).
        wait_server: u64 = C::spec("server waits", "exchanges that waited on the server")
            .short("w:srv").sorts(Desc),
        wait_network: u64 = C::spec("network waits", "exchanges that waited on the network")
            .short("w:net").sorts(Desc),
        wait_client: u64 = C::spec("client waits", "exchanges that waited on the client")
            .short("w:cli").sorts(Desc),
        wait_transfer: u64 = C::spec("transfer waits", "exchanges that waited on the transfer")
            .short("w:xfer").sorts(Desc),
        wait_unknown: u64 = C::spec("unknown waits", "exchanges with too little seen to say")
            .short("w:?").sorts(Desc),
        first_seen: Option<Timestamp> = C::spec("first", "the first exchange's start")
            .unit(Unit::Seconds).sorts(Asc),
        last_seen: Option<Timestamp> = C::spec("last", "the last exchange's start")
            .unit(Unit::Seconds).sorts(Desc),
    }
    derived {}
}

impl Default for EndpointRow {
    fn default() -> Self {
        EndpointRow {
            method: None,
            host: None,
            template: String::new(),
            rule: String::new(),
            query_keys: String::new(),
            count: 0,
            status_4xx: 0,
            status_5xx: 0,
            no_response: 0,
            reset: 0,
            errors: 0,
            server_p50: None,
            server_p90: None,
            server_p99: None,
            server_max: None,
            total_p50: None,
            total_p90: None,
            total_p99: None,
            total_max: None,
            percentiles: precision::EXACT.to_string(),
            request_bytes: 0,
            response_bytes: 0,
            wait_server: 0,
            wait_network: 0,
            wait_client: 0,
            wait_transfer: 0,
            wait_unknown: 0,
            first_seen: None,
            last_seen: None,
        }
    }
}

impl EndpointRow {
    /// Errors (4xx, 5xx, no response, reset) over exchanges, 0 to 1.
    pub fn error_share(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::report::{Cell, Row};

    #[test]
    fn a_row_survives_its_cells_and_its_json_names_its_columns() {
        let full = EndpointRow {
            method: Some("GET".into()),
            host: Some("example.com".into()),
            template: "/users/{id}".into(),
            rule: "{id}: a number".into(),
            query_keys: "page,q".into(),
            count: 3,
            status_5xx: 1,
            errors: 1,
            server_p50: Some(Span::from_nanos(5)),
            total_max: Some(Span::from_nanos(9)),
            first_seen: Some(Timestamp::from_nanos(1)),
            ..EndpointRow::default()
        };
        for r in [EndpointRow::default(), full] {
            let cells: Vec<Cell<'static>> = EndpointRow::COLUMNS
                .iter()
                .map(|c| (c.get)(&r).into_owned())
                .collect();
            assert_eq!(
                EndpointRow::from_cells(&mut |i| cells[i].clone()).unwrap(),
                r
            );
            let json = serde_json::to_value(&r).unwrap();
            let fields = json.as_object().unwrap();
            assert_eq!(fields.len(), EndpointRow::COLUMNS.len());
            assert!(EndpointRow::COLUMNS
                .iter()
                .all(|c| fields.contains_key(c.name)));
        }
    }
}
