//! Row predicates: the words of a filter expression that are facts about a
//! conversation known only after its analysis (`tls`, `sni example.com`,
//! `ja4 t13d…`, `decrypted`), and the split of an expression into the
//! packet filter that runs before analysis and the row expression that
//! filters the stored rows after it (README, "Filter expressions").
//!
//! An expression is read as libpcap reads it: `and` and `or` have the same
//! precedence and associate to the left, so its outermost operator is its
//! last one. The parts joined by the trailing `and`s are its conjuncts;
//! each conjunct must be all packet primitives or all row predicates (a
//! row predicate under the same `or`, `not` or parentheses as a packet
//! primitive has no meaning: the first filters packets, the second rows).
//! A row predicate word written with a backslash (`\tls`) is a name, as in
//! libpcap.

use super::lexer::{tokenize, Kw, Sym, TokKind, Token};
use super::ParseError;

/// One row predicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowPred {
    /// The conversation carries TLS.
    Tls,
    /// The TLS client asked for this server name (ASCII case ignored).
    Sni(String),
    /// The TLS client's JA4 fingerprint is this one.
    Ja4(String),
    /// Records of the conversation were decrypted with a key log.
    Decrypted,
}

impl RowPred {
    /// The predicate's word.
    pub fn word(&self) -> &'static str {
        match self {
            RowPred::Tls => "tls",
            RowPred::Sni(_) => "sni",
            RowPred::Ja4(_) => "ja4",
            RowPred::Decrypted => "decrypted",
        }
    }
}

/// A boolean expression of row predicates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowExpr {
    Pred(RowPred),
    And(Box<RowExpr>, Box<RowExpr>),
    Or(Box<RowExpr>, Box<RowExpr>),
    Not(Box<RowExpr>),
}

impl RowExpr {
    /// Evaluates the expression, `holds` telling whether one predicate
    /// holds for the row at hand.
    pub fn eval(&self, holds: &mut impl FnMut(&RowPred) -> bool) -> bool {
        match self {
            RowExpr::Pred(p) => holds(p),
            RowExpr::And(a, b) => a.eval(holds) && b.eval(holds),
            RowExpr::Or(a, b) => a.eval(holds) || b.eval(holds),
            RowExpr::Not(a) => !a.eval(holds),
        }
    }

    fn and(self, other: RowExpr) -> RowExpr {
        RowExpr::And(Box::new(self), Box::new(other))
    }
}

/// A filter expression split in two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// The packet filter (the packet conjuncts joined by `and`, spaces
    /// tidied), `None` when the expression has only row predicates.
    pub packets: Option<String>,
    /// The row predicates (their conjuncts joined by `and`), `None` when
    /// the expression has none.
    pub rows: Option<RowExpr>,
}

/// Splits `src` into its packet filter and its row expression. The packet
/// filter is checked with [`super::parse`]; an error anywhere names its
/// column in `src`.
pub fn split(src: &str) -> Result<Split, ParseError> {
    let toks = tokenize(src)?;
    if !toks.iter().any(|t| row_word(t).is_some()) {
        super::parse(src)?;
        let packets = tidy(src);
        return Ok(Split {
            packets: (!packets.is_empty()).then_some(packets),
            rows: None,
        });
    }
    let (conjuncts, joins) = conjuncts(src, &toks)?;
    let mut rows: Option<RowExpr> = None;
    // The source with the row conjuncts, and the `and`s that joined them,
    // blanked out: the packet filter with every column where it was.
    let mut blanked: Vec<char> = src.chars().collect();
    let char_index = |byte: usize| src[..byte].chars().count();
    let mut blank = |from: usize, to: usize| {
        for c in &mut blanked[char_index(from)..char_index(to)] {
            *c = ' ';
        }
    };
    let is_row: Vec<bool> = conjuncts
        .iter()
        .map(|part| part.iter().any(|t| row_word(t).is_some()))
        .collect();
    for (part, _) in conjuncts.iter().zip(&is_row).filter(|(_, r)| **r) {
        let e = RowParser::new(src, part).parse()?;
        rows = Some(match rows {
            Some(r) => r.and(e),
            None => e,
        });
        if let (Some(first), Some(last)) = (part.first(), part.last()) {
            blank(first.start, last.start + last.text.len());
        }
    }
    // An `and` stays only where it joins a packet conjunct to an earlier
    // one (`port 1 and tls and port 2` keeps the second `and`).
    for (k, join) in joins.iter().enumerate() {
        let packet_before = is_row[..=k].iter().any(|r| !r);
        let keep = packet_before && !is_row[k + 1];
        if !keep {
            blank(join.start, join.start + join.text.len());
        }
    }
    let blanked: String = blanked.into_iter().collect();
    super::parse(&blanked)?;
    let packets = tidy(&blanked);
    Ok(Split {
        packets: (!packets.is_empty()).then_some(packets),
        rows,
    })
}

/// The expression with runs of white space made one space.
fn tidy(src: &str) -> String {
    src.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The row predicate `t` starts, if it is one of their words.
fn row_word(t: &Token) -> Option<&'static str> {
    let TokKind::Id(w) = &t.kind else {
        return None;
    };
    if t.text.starts_with('\\') {
        return None;
    }
    ["tls", "sni", "ja4", "decrypted"]
        .into_iter()
        .find(|k| w.eq_ignore_ascii_case(k))
}

/// The expression's conjuncts (token runs) and the `and` tokens between
/// them (`joins[i]` joins conjunct `i` and `i + 1`).
fn conjuncts<'t>(
    src: &str,
    toks: &'t [Token],
) -> Result<(Vec<&'t [Token]>, Vec<&'t Token>), ParseError> {
    let mut depth = 0usize;
    let mut last_or = None;
    let mut ands = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            TokKind::Sym(Sym::LParen) => depth += 1,
            TokKind::Sym(Sym::RParen) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| ParseError::at(src, t.start, "unbalanced ')'"))?;
            }
            TokKind::Kw(Kw::Or) if depth == 0 => last_or = Some(i),
            TokKind::Kw(Kw::And) if depth == 0 => ands.push(i),
            _ => {}
        }
    }
    // Only the `and`s after the last `or` are outermost: `a or b and c`
    // is `(a or b) and c`.
    ands.retain(|&i| last_or.is_none_or(|o| i > o));
    let mut parts = Vec::new();
    let mut joins = Vec::new();
    let mut from = 0;
    let end = toks.len() - usize::from(toks.last().is_some_and(|t| t.kind == TokKind::End));
    for i in ands.into_iter().chain([end]) {
        let part = &toks[from.min(i)..i];
        if part.is_empty() {
            let (at, message) = match from.checked_sub(1).map(|j| &toks[j]) {
                Some(j) => (
                    toks.get(i).map_or(src.len(), |t| t.start),
                    format!("expected a primitive after '{}'", j.text),
                ),
                None => (
                    toks.get(i).map_or(src.len(), |t| t.start),
                    "expected a primitive".to_string(),
                ),
            };
            return Err(ParseError::at(src, at, &message));
        }
        parts.push(part);
        if let Some(t) = toks.get(i).filter(|_| i < end) {
            joins.push(t);
        }
        from = i + 1;
    }
    Ok((parts, joins))
}

/// Longest SNI or JA4 value taken.
const MAX_VALUE_LEN: usize = 255;

/// Parses one conjunct of row predicates: `not`/`!`, `and`/`&&`,
/// `or`/`||` (same precedence, to the left) and parentheses.
struct RowParser<'a> {
    src: &'a str,
    toks: &'a [Token],
    pos: usize,
    depth: u32,
}

impl<'a> RowParser<'a> {
    fn new(src: &'a str, toks: &'a [Token]) -> RowParser<'a> {
        RowParser {
            src,
            toks,
            pos: 0,
            depth: 0,
        }
    }

    fn parse(mut self) -> Result<RowExpr, ParseError> {
        let e = self.expr()?;
        match self.toks.get(self.pos) {
            None => Ok(e),
            Some(t) => Err(self.mixed_or_unexpected(t)),
        }
    }

    /// Where the conjunct ends, for an error there.
    fn end_offset(&self) -> usize {
        self.toks
            .last()
            .map_or(self.src.len(), |t| t.start + t.text.len())
    }

    fn mixed_or_unexpected(&self, t: &Token) -> ParseError {
        if matches!(t.kind, TokKind::Sym(Sym::RParen)) {
            return ParseError::at(self.src, t.start, "unbalanced ')'");
        }
        ParseError::at(
            self.src,
            t.start,
            &format!(
                "'{}' is a packet primitive under the same 'or', 'not' or parentheses as a row \
                 predicate (tls, sni, ja4, decrypted): join packet primitives and row predicates \
                 with an outermost 'and'",
                t.text
            ),
        )
    }

    fn expr(&mut self) -> Result<RowExpr, ParseError> {
        let mut e = self.unary()?;
        while let Some(t) = self.toks.get(self.pos) {
            let op = match t.kind {
                TokKind::Kw(Kw::And) => RowExpr::And as fn(_, _) -> _,
                TokKind::Kw(Kw::Or) => RowExpr::Or as fn(_, _) -> _,
                _ => break,
            };
            self.pos += 1;
            let rhs = self.unary()?;
            e = op(Box::new(e), Box::new(rhs));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<RowExpr, ParseError> {
        self.depth += 1;
        if self.depth > super::parser::MAX_DEPTH {
            let at = self
                .toks
                .get(self.pos)
                .map_or(self.end_offset(), |t| t.start);
            return Err(ParseError::at(self.src, at, "expression nested too deeply"));
        }
        let Some(t) = self.toks.get(self.pos) else {
            return Err(ParseError::at(
                self.src,
                self.end_offset(),
                "expected a row predicate (tls, sni NAME, ja4 FINGERPRINT, decrypted)",
            ));
        };
        self.pos += 1;
        let e = match (&t.kind, row_word(t)) {
            (TokKind::Kw(Kw::Not), _) => RowExpr::Not(Box::new(self.unary()?)),
            (TokKind::Sym(Sym::LParen), _) => {
                let e = self.expr()?;
                match self.toks.get(self.pos) {
                    Some(c) if c.kind == TokKind::Sym(Sym::RParen) => self.pos += 1,
                    Some(other) => return Err(self.mixed_or_unexpected(other)),
                    None => {
                        return Err(ParseError::at(self.src, self.end_offset(), "expected ')'"))
                    }
                }
                e
            }
            (_, Some("tls")) => RowExpr::Pred(RowPred::Tls),
            (_, Some("decrypted")) => RowExpr::Pred(RowPred::Decrypted),
            (_, Some(word)) => {
                let value = self.value(t, word)?;
                RowExpr::Pred(if word == "sni" {
                    RowPred::Sni(value)
                } else {
                    RowPred::Ja4(value)
                })
            }
            _ => return Err(self.mixed_or_unexpected(t)),
        };
        self.depth -= 1;
        Ok(e)
    }

    /// The value after `sni` or `ja4`: one word (a name, an address).
    fn value(&mut self, after: &Token, word: &str) -> Result<String, ParseError> {
        let what = if word == "sni" {
            "a server name after 'sni' (sni example.com)"
        } else {
            "a JA4 fingerprint after 'ja4' (ja4 t13d1516h2_8daaf6152771_e5627efa2ab1)"
        };
        let at = after.start + after.text.len();
        let Some(t) = self.toks.get(self.pos) else {
            return Err(ParseError::at(self.src, at, &format!("expected {what}")));
        };
        let text = match &t.kind {
            TokKind::Id(w) => w.clone(),
            TokKind::Hid(_) | TokKind::Hid6(_) | TokKind::Num(_) | TokKind::Eid(_) => {
                t.text.clone()
            }
            _ => {
                return Err(ParseError::at(
                    self.src,
                    t.start,
                    &format!("expected {what}"),
                ))
            }
        };
        if text.len() > MAX_VALUE_LEN {
            return Err(ParseError::at(
                self.src,
                t.start,
                &format!("{word} value is longer than {MAX_VALUE_LEN} bytes"),
            ));
        }
        self.pos += 1;
        Ok(text)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn rows(src: &str) -> (Option<String>, Option<RowExpr>) {
        let s = split(src).unwrap();
        (s.packets, s.rows)
    }

    fn pred(p: RowPred) -> RowExpr {
        RowExpr::Pred(p)
    }

    #[test]
    fn packet_only_expressions_pass_through() {
        assert_eq!(rows("port 80"), (Some("port 80".into()), None));
        assert_eq!(
            rows("  tcp   port  443 "),
            (Some("tcp port 443".into()), None)
        );
        assert_eq!(rows(""), (None, None));
        assert_eq!(split("port 80 and").unwrap_err().column, 12);
    }

    #[test]
    fn row_predicates_are_taken_out() {
        assert_eq!(rows("tls"), (None, Some(pred(RowPred::Tls))));
        assert_eq!(
            rows("port 443 and sni example.com"),
            (
                Some("port 443".into()),
                Some(pred(RowPred::Sni("example.com".into())))
            )
        );
        assert_eq!(
            rows("decrypted and port 443 and not tls and host 10.0.0.1"),
            (
                Some("port 443 and host 10.0.0.1".into()),
                Some(pred(RowPred::Decrypted).and(RowExpr::Not(Box::new(pred(RowPred::Tls)))))
            )
        );
        assert_eq!(
            rows("port 80 or port 443 and (sni a.example || sni b.example)"),
            (
                Some("port 80 or port 443".into()),
                Some(RowExpr::Or(
                    Box::new(pred(RowPred::Sni("a.example".into()))),
                    Box::new(pred(RowPred::Sni("b.example".into())))
                ))
            )
        );
        assert_eq!(
            rows("tls && ja4 t13d1516h2_8daaf6152771_e5627efa2ab1 && tcp"),
            (
                Some("tcp".into()),
                Some(pred(RowPred::Tls).and(pred(RowPred::Ja4(
                    "t13d1516h2_8daaf6152771_e5627efa2ab1".into()
                ))))
            )
        );
        assert_eq!(
            rows("sni 10.0.0.1").1,
            Some(pred(RowPred::Sni("10.0.0.1".into())))
        );
        // Same precedence, to the left: `(tls or sni a) and decrypted`.
        assert_eq!(
            rows("tls or sni a and decrypted").1,
            Some(
                RowExpr::Or(
                    Box::new(pred(RowPred::Tls)),
                    Box::new(pred(RowPred::Sni("a".into())))
                )
                .and(pred(RowPred::Decrypted))
            )
        );
    }

    #[test]
    fn errors_name_the_column() {
        let err = |src: &str| {
            let e = split(src).unwrap_err();
            (e.column, e.message)
        };
        let (col, msg) = err("tls or port 443");
        assert_eq!(col, 8);
        assert!(msg.starts_with("'port' is a packet primitive"), "{msg}");
        assert_eq!(err("port 443 and not (tls and port 80)").0, 27);
        assert_eq!(
            err("tls and sni"),
            (
                12,
                "expected a server name after 'sni' (sni example.com)".to_string()
            )
        );
        assert_eq!(err("ja4 (").0, 5);
        assert_eq!(err("sni a and port 99999").0, 16);
        assert_eq!(err("tls and (decrypted").1, "expected ')'");
        assert!(err("tls or").1.starts_with("expected a row predicate"));
        assert_eq!(err("tls and not").0, 12);
        assert_eq!(
            err("tls and and port 1"),
            (9, "expected a primitive after 'and'".into())
        );
        assert_eq!(err("and tls").0, 1);
        let long = format!("sni {}", "a".repeat(300));
        assert_eq!(err(&long).0, 5);
        let deep = format!("{}tls", "not ".repeat(100));
        assert!(err(&deep).1.contains("nested too deeply"));
    }

    #[test]
    fn a_backslash_makes_the_word_a_name() {
        // `\tls` is a host name again (which tracedeck does not resolve).
        assert!(split("host \\tls")
            .unwrap_err()
            .message
            .contains("unknown host 'tls'"));
    }

    #[test]
    fn eval_follows_the_tree() {
        let e = rows("(tls or decrypted) and not sni x.example").1.unwrap();
        let facts = |sni: &'static str| {
            move |p: &RowPred| match p {
                RowPred::Tls => true,
                RowPred::Sni(s) => s.eq_ignore_ascii_case(sni),
                _ => false,
            }
        };
        assert!(e.eval(&mut facts("y.example")));
        assert!(!e.eval(&mut facts("X.EXAMPLE")));
    }
}
