//! Query parameters, parsed strictly: an unknown name, a repeated name or
//! a value out of range is an error that says what would be accepted.
//! The same parsing serves the JSON API and the HTML pages, so a page's
//! URL means what its JSON twin's does.

use std::collections::HashMap;
use std::str::FromStr;

use crate::analysis::report::{
    ConvQuery, ConvWhere, DnsQuery, HttpQuery, Order, Query, Row, SortKey, MAX_LIMIT,
};
use crate::time::Span;

/// Longest query string accepted.
const MAX_QUERY_LEN: usize = 8192;
/// Largest offset accepted.
const MAX_OFFSET: u64 = 1 << 40;
/// Most rows a table page skips by counting (`offset` without `after`):
/// deeper pages seek with the `after` cursor their `next` link carries, so
/// no request walks an index for millions of rows (README, "Limits").
pub const MAX_COUNTED_OFFSET: u64 = 100_000;

/// A parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError(pub String);

fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// The parameters of one request.
#[derive(Clone, Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `raw` (the part after `?`), allowing only `allowed` names.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Params, ParamError> {
        let raw = raw.unwrap_or("");
        if raw.len() > MAX_QUERY_LEN {
            return Err(ParamError(format!(
                "the query string is longer than {MAX_QUERY_LEN} bytes"
            )));
        }
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            if !allowed.contains(&k.as_ref()) {
                return Err(ParamError(format!(
                    "unknown parameter '{}': this endpoint takes {}",
                    shown(&k),
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                )));
            }
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(ParamError(format!("parameter '{k}' is given twice")));
            }
        }
        Ok(Params(map))
    }

    /// The parameters named in `names`, ignoring the rest: for a query
    /// string an earlier extractor has already checked.
    pub fn only(raw: Option<&str>, names: &[&str]) -> Params {
        let pairs = form_urlencoded::parse(raw.unwrap_or("").as_bytes());
        Params(
            pairs
                .filter(|(k, _)| names.contains(&k.as_ref()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, ParamError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|v| v.parse::<T>().map_err(|e| ParamError(e.to_string())))
            .transpose()
    }

    pub(crate) fn whole(&self, name: &str, lo: u64, hi: u64) -> Result<Option<u64>, ParamError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.parse::<u64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
            _ => Err(ParamError(format!(
                "{name} must be a whole number from {lo} to {hi}, not '{}'",
                shown(v)
            ))),
        }
    }

    /// `limit` (1..=MAX_LIMIT) and `offset`.
    pub fn page(&self, default_limit: u32) -> Result<(u32, u64), ParamError> {
        let limit = self
            .whole("limit", 1, u64::from(MAX_LIMIT))?
            .map_or(default_limit, |l| l as u32);
        let offset = self.whole("offset", 0, MAX_OFFSET)?.unwrap_or(0);
        Ok((limit, offset))
    }

    fn order(&self, default: Order) -> Result<Order, ParamError> {
        Ok(self.parsed::<Order>("order")?.unwrap_or(default))
    }

    pub(crate) fn text(&self, name: &str, max: usize) -> Result<Option<String>, ParamError> {
        match self.get(name) {
            Some(v) if v.len() > max => {
                Err(ParamError(format!("{name} is longer than {max} bytes")))
            }
            Some(v) if v.chars().any(char::is_control) => {
                Err(ParamError(format!("{name} contains control characters")))
            }
            other => Ok(other.map(str::to_string)),
        }
    }

    /// Seconds, as a non-negative decimal number.
    pub(crate) fn seconds(&self, name: &str) -> Result<Option<Span>, ParamError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.parse::<f64>() {
            Ok(s) if s.is_finite() && (0.0..=1e9).contains(&s) => {
                Ok(Some(Span::from_nanos((s * 1e9).round() as i64)))
            }
            _ => Err(ParamError(format!(
                "{name} must be a number of seconds such as 0.5, not '{}'",
                shown(v)
            ))),
        }
    }
}

/// Names the conversation list takes (`sni` ignores ASCII case, `ja4` is
/// exact: the row predicates `sni NAME` and `ja4 FP` as parameters).
pub const CONV_PARAMS: &[&str] = &[
    "sort", "order", "limit", "offset", "after", "filter", "sni", "ja4",
];
/// Names the HTTP list takes.
pub const HTTP_PARAMS: &[&str] = &[
    "sort",
    "order",
    "limit",
    "offset",
    "after",
    "status",
    "method",
    "host",
    "path",
    "min_total_time",
    "max_total_time",
    "conversation",
    "grpc",
    "grpc_method",
    "http",
    "stream",
    "filter",
    "template",
    "rename",
    "split",
];

/// Longest filter expression accepted.
const MAX_FILTER_LEN: usize = 1024;

/// The `filter` parameter split into its packet filter and its row
/// predicates ([`crate::filter::row`]), checked here so a bad expression
/// is a 400 naming the column, never a failed analysis.
fn split_filter(p: &Params) -> Result<crate::filter::Split, ParamError> {
    let f = p.get("filter").unwrap_or("").trim();
    if f.len() > MAX_FILTER_LEN {
        return Err(ParamError(format!(
            "filter is longer than {MAX_FILTER_LEN} bytes"
        )));
    }
    crate::filter::split(f).map_err(|e| ParamError(format!("filter '{}': {e}", shown(f))))
}

/// The packet filter of the `filter` parameter: what the capture is
/// analysed again with (`None`: the capture's own results serve, also
/// when the expression has only row predicates).
pub fn filter_param(p: &Params) -> Result<Option<String>, ParamError> {
    Ok(split_filter(p)?.packets)
}

/// The query of a table page or list (`sort`, `order`, `limit`,
/// `offset`, `after` and the filters the table's columns declare; the
/// `filter` expression is [`filter_param`]'s).
fn table_query<R: Row>(p: &Params) -> Result<Query<R>, ParamError>
where
    Query<R>: Default,
{
    let d = Query::<R>::default();
    let (limit, offset) = p.page(d.limit)?;
    let after = p.whole("after", 0, MAX_OFFSET)?;
    if after.is_none() && offset > MAX_COUNTED_OFFSET {
        return Err(ParamError(format!(
            "offset goes up to {MAX_COUNTED_OFFSET}; deeper pages are reached by their \
             next link (after=)"
        )));
    }
    let sort: SortKey<R> = p.parsed("sort")?.unwrap_or(d.sort);
    let order = p.order(sort.default_order())?;
    let q = Query {
        sort,
        order,
        limit,
        offset,
        after,
        filters: Vec::new(),
    }
    .with_filters(|k| p.get(k))
    .map_err(|e| ParamError(e.0))?;
    // A bad expression is `filter_param`'s error, shown by the filter box.
    Ok(match split_filter(p).ok().and_then(|s| s.rows) {
        Some(rows) => q.of_conversations(ConvWhere::of(&rows)),
        None => q,
    })
}

/// The conversation query of a request.
pub fn conv_query(p: &Params) -> Result<ConvQuery, ParamError> {
    table_query(p)
}

/// The HTTP exchange query of a request.
pub fn http_query(p: &Params) -> Result<HttpQuery, ParamError> {
    table_query(p)
}

/// Names the DNS list takes.
pub const DNS_PARAMS: &[&str] = &[
    "sort",
    "order",
    "limit",
    "offset",
    "after",
    "conversation",
    "name",
    "type",
    "rcode",
    "status",
    "min_response_time",
    "filter",
];

/// The DNS lookup query of a request.
pub fn dns_query(p: &Params) -> Result<DnsQuery, ParamError> {
    table_query(p)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::report::{Cond, StatusFilter, StatusMatch};

    #[test]
    fn http_params_name_every_filter() {
        for param in HttpQuery::filter_params() {
            assert!(HTTP_PARAMS.contains(&param), "{param}");
        }
    }

    #[test]
    fn conv_params_name_every_filter() {
        for param in ConvQuery::filter_params() {
            assert!(CONV_PARAMS.contains(&param), "{param}");
        }
        let p = Params::parse(Some("sni=Example.COM&ja4=t13d_x"), CONV_PARAMS).unwrap();
        let q = conv_query(&p).unwrap();
        assert_eq!(
            q.filter_on("sni"),
            Some(&Cond::EqualNoCase("Example.COM".into()))
        );
        assert_eq!(
            q.filter_on("ja4"),
            Some(&Cond::Equal(crate::analysis::report::Cell::Text(
                "t13d_x".into()
            )))
        );
        let p = Params::parse(Some("sni=a%00b"), CONV_PARAMS).unwrap();
        assert!(conv_query(&p).is_err());
    }

    #[test]
    fn dns_params_name_every_filter() {
        for param in DnsQuery::filter_params() {
            assert!(DNS_PARAMS.contains(&param), "{param}");
        }
        let p = Params::parse(Some("rcode=nxdomain&sort=response_time"), DNS_PARAMS).unwrap();
        let q = dns_query(&p).unwrap();
        assert_eq!(q.sort.name(), "response_time");
        assert_eq!(q.filters.len(), 1);
        // A list, as `analyze --rcode` takes it (`none`: no response).
        let p = Params::parse(Some("rcode=nxdomain,SERVFAIL,none"), DNS_PARAMS).unwrap();
        let q = dns_query(&p).unwrap();
        assert_eq!(
            q.filter_on("rcode"),
            Some(&Cond::AnyOf(vec![
                Some("NXDOMAIN".into()),
                Some("SERVFAIL".into()),
                None
            ]))
        );
        let p = Params::parse(Some("rcode=NXDOMAIN,,x1"), DNS_PARAMS).unwrap();
        assert!(dns_query(&p).is_err());
    }

    #[test]
    fn hostile_values_get_clear_messages() {
        let p = |q: &str| Params::parse(Some(q), CONV_PARAMS).and_then(|p| conv_query(&p));
        assert_eq!(
            p("limit=-1").unwrap_err().0,
            "limit must be a whole number from 1 to 10000, not '-1'"
        );
        assert!(p("sort=;drop")
            .unwrap_err()
            .0
            .starts_with("cannot sort by ';drop'"));
        assert!(p("order=sideways").is_err());
        assert!(p("limit=1&limit=2").unwrap_err().0.contains("twice"));
        assert!(p("bogus=1")
            .unwrap_err()
            .0
            .starts_with("unknown parameter 'bogus'"));
        assert!(p("offset=99999999999999999999").is_err());
        assert!(p("offset=100001").unwrap_err().0.contains("after="));
        let deep = p("offset=900000&after=12").unwrap();
        assert_eq!((deep.offset, deep.after), (900_000, Some(12)));
        assert!(p("after=x").unwrap_err().0.starts_with("after must be"));
        let q = p("sort=bytes&order=asc&limit=10&offset=20").unwrap();
        assert_eq!(q.sort, SortKey::of("bytes"));
        assert_eq!(q.order, Order::Asc);
        assert_eq!((q.limit, q.offset), (10, 20));
        assert_eq!(p("").unwrap(), ConvQuery::default());
    }

    #[test]
    fn http_filters() {
        let p = |q: &str| Params::parse(Some(q), HTTP_PARAMS).and_then(|p| http_query(&p));
        let q =
            p("status=5xx,404&method=get&min_total_time=0.25&sort=total_time&order=desc").unwrap();
        assert_eq!(q.sort, SortKey::of("total_time"));
        assert_eq!(
            q.filter_on("status"),
            Some(&Cond::Status(StatusFilter(vec![
                StatusMatch::Range(500, 599),
                StatusMatch::Range(404, 404)
            ])))
        );
        assert_eq!(
            q.filter_on("min_total_time"),
            Some(&Cond::AtLeast(Span::from_nanos(250_000_000).as_nanos()))
        );
        assert_eq!(
            q.filter_on("method"),
            Some(&Cond::Equal(crate::analysis::report::Cell::Text(
                "GET".into()
            )))
        );
        assert!(p("min_total_time=NaN").is_err());
        assert!(p("min_total_time=-1").is_err());
        assert!(p("method=GE%20T").is_err());
        assert!(p("status=abc").is_err());
        // `(no host)`: none, or an empty one; another host ignoring case.
        let q = p("host=%28no+host%29&method=none").unwrap();
        assert_eq!(
            q.filter_on("host"),
            Some(&Cond::AnyOf(vec![None, Some(String::new())]))
        );
        assert_eq!(q.filter_on("method"), Some(&Cond::AnyOf(vec![None])));
        let q = p("host=Shop.Example").unwrap();
        assert_eq!(
            q.filter_on("host"),
            Some(&Cond::EqualNoCase("Shop.Example".into()))
        );
        let q = p("grpc=unavailable,4&grpc_method=SayHello&http=2&stream=3").unwrap();
        assert_eq!(
            q.filter_on("grpc"),
            Some(&Cond::Status(StatusFilter(vec![
                StatusMatch::Range(14, 14),
                StatusMatch::Range(4, 4)
            ])))
        );
        assert_eq!(q.filters.len(), 4);
        assert!(p("grpc=bogus").is_err());
        assert!(p("stream=x").is_err());
        assert!(p("path=%00").is_err());
    }
}
