//! The DNS lookup table: one row per query and its response (or what was
//! seen of them), as `analyze --dns --json` prints it under `dns` and
//! `/api/captures/ID/dns` lists it. The DNS analyzer emits these rows as
//! its records (README, "DNS lookups").

use std::net::{Ipv4Addr, SocketAddr};

use super::query::Order::{Asc, Desc};
use super::table::{Column, FilterOp, Unit};
use crate::flow::Proto;
use crate::time::{Span, Timestamp};

type C = Column<DnsRow>;

crate::table! {
    /// One DNS lookup: a query, its response, how long it took.
    pub struct DnsRow in "dns" {
        conversation: u64 = C::spec("conversation", "the conversation that carried it")
            .sorts(Asc)
            .filter("conversation", FilterOp::Equal),
        transport: Proto = C::spec("over", "udp or tcp").short("over"),
        /// The side that sent the query.
        client: SocketAddr = C::spec("client", "the side that asked").sorts(Asc),
        server: SocketAddr = C::spec("server", "the side that answered").sorts(Asc),
        /// The message ID that pairs the query with its response.
        query_id: u16 = C::spec("ID", "DNS message ID").short("id"),
        query_time: Option<Timestamp> =
            C::spec("time", "the query, from the start of the capture")
                .unit(Unit::Seconds)
                .indexed(Asc),
        name: String = C::spec("name", "the name asked about")
            .sorts(Asc)
            .filter("name", FilterOp::Contains),
        qtype: String = C::spec("type", "the record type asked for")
            .sorts(Asc)
            .filter("type", FilterOp::EqualUpper),
        rcode: Option<String> = C::spec("rcode", "the response code (NOERROR, NXDOMAIN, ...)")
            .sorts(Asc)
            .filter("rcode", FilterOp::EqualUpper),
        /// The answer section, at most 8 records, `; `-separated.
        answers: String = C::spec("answers", "the answer records, in short"),
        answer_count: u64 = C::spec("answer records", "records in the answer section")
            .short("ans")
            .sorts(Desc),
        /// Response minus query (tshark's `dns.time`).
        response_time: Option<Span> = C::spec("response time", "query to response (dns.time)")
            .short("time")
            .unit(Unit::Seconds)
            .indexed(Desc)
            .filter("min_response_time", FilterOp::AtLeast),
        /// The same query sent again before the response.
        retransmits: u64 = C::spec("retransmits", "the query sent again before a response")
            .short("retx")
            .sorts(Desc),
        /// The response was truncated (TC): the client should retry over TCP.
        tc: bool = C::spec("TC", "the response was truncated (retry over TCP)"),
        /// A lookup over TCP that retried a truncated answer: the
        /// conversation that carried the truncated one.
        retry_of: Option<u64> = C::spec("retry of", "the conversation whose truncated (TC) answer this TCP lookup retried"),
        /// answered, unanswered, truncated, or no query (a response whose
        /// query was not captured).
        status: String = C::spec("status", "answered, unanswered, truncated, no query")
            .sorts(Asc)
            .filter("status", FilterOp::EqualNoCase),
        query_frame: Option<u64> = C::spec("query frame", "the query's frame").unit(Unit::Frame),
        response_frame: Option<u64> =
            C::spec("response frame", "the response's frame").unit(Unit::Frame),
        /// What could not be read of the messages.
        note: Option<String> = C::spec("note", "what could not be read"),
    }
    derived {}
}

/// [`DnsRow::status`] values.
pub mod status {
    pub const ANSWERED: &str = "answered";
    pub const UNANSWERED: &str = "unanswered";
    pub const TRUNCATED: &str = "truncated";
    pub const NO_QUERY: &str = "no query";
}

impl Default for DnsRow {
    fn default() -> Self {
        let nowhere = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        DnsRow {
            conversation: 0,
            transport: Proto::Udp,
            client: nowhere,
            server: nowhere,
            query_id: 0,
            query_time: None,
            name: String::new(),
            qtype: String::new(),
            rcode: None,
            answers: String::new(),
            answer_count: 0,
            response_time: None,
            retransmits: 0,
            tc: false,
            retry_of: None,
            status: status::UNANSWERED.to_string(),
            query_frame: None,
            response_frame: None,
            note: None,
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::report::{Cell, Row};

    #[test]
    fn a_row_survives_its_cells_and_its_json_names_its_columns() {
        let row = DnsRow {
            query_time: Some(Timestamp::from_nanos(5)),
            rcode: Some("NXDOMAIN".into()),
            response_time: Some(Span::from_nanos(7)),
            tc: true,
            note: Some("cut".into()),
            ..DnsRow::default()
        };
        for r in [DnsRow::default(), row] {
            let cells: Vec<Cell<'static>> = DnsRow::COLUMNS
                .iter()
                .map(|c| (c.get)(&r).into_owned())
                .collect();
            assert_eq!(DnsRow::from_cells(&mut |i| cells[i].clone()).unwrap(), r);
            let json = serde_json::to_value(&r).unwrap();
            let fields = json.as_object().unwrap();
            assert_eq!(fields.len(), DnsRow::COLUMNS.len());
            assert!(DnsRow::COLUMNS.iter().all(|c| fields.contains_key(c.name)));
        }
    }
}
