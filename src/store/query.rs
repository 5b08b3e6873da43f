//! Typed queries over a capture's results: sort keys are enums mapped to
//! columns here (never a column name from a URL), filters are parsed
//! values bound as SQL parameters.

use std::str::FromStr;

use crate::time::Span;

/// The most rows one list call returns.
pub const MAX_LIMIT: u32 = 10_000;

/// A query parameter that cannot be used, with a message for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }
}

impl FromStr for Order {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Order, QueryError> {
        match s {
            "asc" => Ok(Order::Asc),
            "desc" => Ok(Order::Desc),
            _ => Err(QueryError(format!(
                "order must be 'asc' or 'desc', not '{}'",
                shown(s)
            ))),
        }
    }
}

/// At most 40 characters of a parameter, for an error message.
pub(crate) fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

macro_rules! sort_keys {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal, $column:literal;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($variant),* }

        impl $name {
            /// Every key, in the order of the JSON fields.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The name as the `sort` parameter and the JSON field spell it.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// The SQL expression sorted on.
            pub(crate) fn column(self) -> &'static str {
                match self { $($name::$variant => $column),* }
            }
        }

        impl FromStr for $name {
            type Err = QueryError;
            fn from_str(s: &str) -> Result<$name, QueryError> {
                $name::ALL.iter().copied().find(|k| k.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|k| k.name()).collect();
                    QueryError(format!(
                        "cannot sort by '{}': use one of {}",
                        shown(s),
                        names.join(", ")
                    ))
                })
            }
        }
    };
}

sort_keys! {
    /// A column of the conversation table.
    ConvSort {
        Id => "id", "id";
        Proto => "proto", "proto";
        Client => "client", "client_key";
        Server => "server", "server_key";
        Start => "start", "start_ns";
        End => "end", "end_ns";
        Duration => "duration", "duration_ns";
        Packets => "packets", "packets";
        PacketsC2s => "packets_c2s", "packets_c2s";
        PacketsS2c => "packets_s2c", "packets_s2c";
        Bytes => "bytes", "bytes";
        BytesC2s => "bytes_c2s", "bytes_c2s";
        BytesS2c => "bytes_s2c", "bytes_s2c";
        PayloadC2s => "payload_c2s", "payload_c2s";
        PayloadS2c => "payload_s2c", "payload_s2c";
        State => "state", "state";
        HttpExchanges => "http_exchanges", "http_exchanges";
        HandshakeRtt => "handshake_rtt", "handshake_rtt_ns";
        Retransmissions => "retransmissions", "retransmissions";
        GapBytesC2s => "gap_bytes_c2s", "gap_bytes_c2s";
        GapBytesS2c => "gap_bytes_s2c", "gap_bytes_s2c";
        ZeroWindows => "zero_windows", "zero_windows";
        FirstFrame => "first_frame", "first_frame";
        LastFrame => "last_frame", "last_frame";
    }
}

sort_keys! {
    /// A column of the HTTP exchange table.
    HttpSort {
        Id => "id", "id";
        Conversation => "conversation", "conversation";
        Client => "client", "client_key";
        Server => "server", "server_key";
        Method => "method", "method";
        Uri => "uri", "uri";
        Host => "host", "host";
        Status => "status", "status";
        RequestStart => "request_start", "request_start";
        RequestEnd => "request_end", "request_end";
        ResponseStart => "response_start", "response_start";
        ResponseEnd => "response_end", "response_end";
        ServerTime => "server_time", "server_time";
        TotalTime => "total_time", "total_time";
        RequestBodyBytes => "request_body_bytes", "request_body_bytes";
        ResponseBodyBytes => "response_body_bytes", "response_body_bytes";
        ContentType => "content_type", "content_type";
    }
}

impl ConvSort {
    /// Sizes and durations read best largest first; names and times in order.
    pub fn default_order(self) -> Order {
        use ConvSort::*;
        match self {
            Id | Proto | Client | Server | Start | End | State | FirstFrame | LastFrame => {
                Order::Asc
            }
            _ => Order::Desc,
        }
    }
}

impl HttpSort {
    /// Sizes and durations read best largest first; names and times in order.
    pub fn default_order(self) -> Order {
        use HttpSort::*;
        match self {
            ServerTime | TotalTime | RequestBodyBytes | ResponseBodyBytes => Order::Desc,
            _ => Order::Asc,
        }
    }
}

/// A page of the conversation table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvQuery {
    pub sort: ConvSort,
    pub order: Order,
    pub limit: u32,
    pub offset: u64,
}

impl Default for ConvQuery {
    fn default() -> Self {
        ConvQuery {
            sort: ConvSort::Duration,
            order: Order::Desc,
            limit: 50,
            offset: 0,
        }
    }
}

/// One term of a status filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusMatch {
    /// Codes `lo..=hi` (an exact code is `lo == hi`).
    Range(u16, u16),
    /// Requests that saw no response.
    NoResponse,
}

/// `404,5xx,500-599,none`: any of the terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusFilter(pub Vec<StatusMatch>);

const MAX_STATUS_TERMS: usize = 32;

impl FromStr for StatusFilter {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<StatusFilter, QueryError> {
        let bad = |term: &str| {
            QueryError(format!(
                "status '{}' is not a code (404), a class (5xx), a range (500-599) or 'none'",
                shown(term)
            ))
        };
        let code = |t: &str| -> Option<u16> {
            let t = t.trim();
            if t.is_empty() || t.len() > 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse::<u16>().ok().filter(|c| (100..=999).contains(c))
        };
        let mut terms = Vec::new();
        for term in s.split(',') {
            let t = term.trim();
            if t.is_empty() {
                continue;
            }
            if terms.len() == MAX_STATUS_TERMS {
                return Err(QueryError(format!(
                    "status takes at most {MAX_STATUS_TERMS} terms"
                )));
            }
            let m = if t.eq_ignore_ascii_case("none") {
                StatusMatch::NoResponse
            } else if t.len() == 3 && t.get(1..).is_some_and(|r| r.eq_ignore_ascii_case("xx")) {
                let d = t.as_bytes()[0];
                if !(b'1'..=b'9').contains(&d) {
                    return Err(bad(t));
                }
                let lo = u16::from(d - b'0') * 100;
                StatusMatch::Range(lo, lo + 99)
            } else if let Some((a, b)) = t.split_once('-') {
                let (lo, hi) = (
                    code(a).ok_or_else(|| bad(t))?,
                    code(b).ok_or_else(|| bad(t))?,
                );
                if lo > hi {
                    return Err(QueryError(format!(
                        "status range '{}' runs backwards",
                        shown(t)
                    )));
                }
                StatusMatch::Range(lo, hi)
            } else {
                let c = code(t).ok_or_else(|| bad(t))?;
                StatusMatch::Range(c, c)
            };
            terms.push(m);
        }
        if terms.is_empty() {
            return Err(bad(s));
        }
        Ok(StatusFilter(terms))
    }
}

impl StatusFilter {
    /// Whether an exchange with this final status (None: no response)
    /// passes the filter.
    pub fn matches(&self, status: Option<u16>) -> bool {
        self.0.iter().any(|m| match (m, status) {
            (StatusMatch::Range(lo, hi), Some(code)) => (*lo..=*hi).contains(&code),
            (StatusMatch::NoResponse, None) => true,
            _ => false,
        })
    }
}

/// A filtered page of the HTTP exchange table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpQuery {
    pub sort: HttpSort,
    pub order: Order,
    pub limit: u32,
    pub offset: u64,
    pub status: Option<StatusFilter>,
    /// Exact method, compared case-insensitively.
    pub method: Option<String>,
    /// Exact host, compared case-insensitively.
    pub host: Option<String>,
    /// Substring of the request URI.
    pub path: Option<String>,
    pub min_total_time: Option<Span>,
    /// Only the exchanges of this conversation.
    pub conversation: Option<u64>,
}

impl Default for HttpQuery {
    fn default() -> Self {
        HttpQuery {
            sort: HttpSort::RequestStart,
            order: Order::Asc,
            limit: 50,
            offset: 0,
            status: None,
            method: None,
            host: None,
            path: None,
            min_total_time: None,
            conversation: None,
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn status_terms() {
        let f: StatusFilter = "404, 5xx,500-599,none".parse().unwrap();
        assert_eq!(
            f.0,
            vec![
                StatusMatch::Range(404, 404),
                StatusMatch::Range(500, 599),
                StatusMatch::Range(500, 599),
                StatusMatch::NoResponse
            ]
        );
        for bad in [
            "", "abc", "0xx", "99", "1000", "600-500", "4xx-5xx", "-1", "5x",
        ] {
            assert!(bad.parse::<StatusFilter>().is_err(), "{bad}");
        }
        let many = vec!["200"; 40].join(",");
        assert!(many.parse::<StatusFilter>().is_err());
    }

    #[test]
    fn sort_names() {
        assert_eq!("duration".parse::<ConvSort>(), Ok(ConvSort::Duration));
        assert_eq!("client".parse::<ConvSort>().unwrap().column(), "client_key");
        let err = ";drop".parse::<ConvSort>().unwrap_err();
        assert!(err
            .0
            .starts_with("cannot sort by ';drop': use one of id, proto"));
        assert_eq!("total_time".parse::<HttpSort>(), Ok(HttpSort::TotalTime));
        assert!("DESC".parse::<Order>().is_err());
    }
}
