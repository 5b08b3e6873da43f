//! Pairs one conversation's DNS queries with their responses, by message
//! ID and question (the conversation fixes the 5-tuple), as tshark does:
//! the response time is measured from the first copy of the query, later
//! copies before the response are retransmissions, and a query still open
//! when the conversation ends is unanswered. Memory is bounded: past
//! [`MAX_OPEN`] open queries the oldest is given up as unanswered.

use std::collections::VecDeque;

use crate::analysis::report::{dns_status as status, DnsRow};
use crate::flow::Dir;
use crate::time::Timestamp;

use super::super::protocol::{Context, Emit, Tally};
use super::super::record::Record;
use super::super::OutputError;
use super::wire::{self, Message};

/// Open queries kept per conversation.
pub const MAX_OPEN: usize = 1024;

/// A query waiting for its response.
struct Open {
    dir: Dir,
    id: u16,
    /// Name (ASCII-lowercased: DNS compares names without case), type, class.
    key: (String, u16, u16),
    row: DnsRow,
}

/// What has been seen of one conversation's lookups.
#[derive(Default)]
pub struct Lookups {
    open: VecDeque<Open>,
    /// Finished rows waiting for `drain` (their sides still by direction).
    done: Vec<(Dir, DnsRow)>,
    tally: Tally,
}

impl Lookups {
    /// One whole message sent in `dir`.
    pub fn message(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let msg = match wire::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                // A header is enough to pair a response whose question
                // cannot be read (a note says why).
                match wire::Header::parse(bytes) {
                    Ok(header) if header.response => {
                        let msg = Message {
                            header,
                            question: None,
                            answers: Vec::new(),
                            note: Some(e),
                        };
                        self.response(dir, ts, frame, msg);
                    }
                    _ => {}
                }
                return;
            }
        };
        self.tally.confirmed = true;
        if msg.header.response {
            self.response(dir, ts, frame, msg);
        } else {
            self.query(dir, ts, frame, msg);
        }
    }

    fn query(&mut self, dir: Dir, ts: Timestamp, frame: u64, msg: Message) {
        let Some(q) = msg.question else {
            return;
        };
        let key = (q.name.to_ascii_lowercase(), q.qtype, q.qclass);
        let id = msg.header.id;
        if let Some(open) = self
            .open
            .iter_mut()
            .find(|o| o.dir == dir && o.id == id && o.key == key)
        {
            open.row.retransmits += 1;
            return;
        }
        if self.open.len() == MAX_OPEN {
            if let Some(oldest) = self.open.pop_front() {
                self.done.push((oldest.dir, oldest.row));
            }
        }
        let row = DnsRow {
            query_id: id,
            query_time: Some(ts),
            name: q.name,
            qtype: wire::type_name(q.qtype),
            query_frame: Some(frame),
            status: status::UNANSWERED.to_string(),
            ..DnsRow::default()
        };
        self.open.push_back(Open { dir, id, key, row });
    }

    fn response(&mut self, dir: Dir, ts: Timestamp, frame: u64, msg: Message) {
        let id = msg.header.id;
        let key = msg
            .question
            .as_ref()
            .map(|q| (q.name.to_ascii_lowercase(), q.qtype, q.qclass));
        let found = self.open.iter().position(|o| {
            o.dir == dir.reverse() && o.id == id && key.as_ref().is_none_or(|k| *k == o.key)
        });
        let (query_dir, mut row) = match found.and_then(|i| self.open.remove(i)) {
            Some(open) => (open.dir, open.row),
            None => {
                let (name, qtype) = msg
                    .question
                    .as_ref()
                    .map(|q| (q.name.clone(), wire::type_name(q.qtype)))
                    .unwrap_or_default();
                let row = DnsRow {
                    query_id: id,
                    name,
                    qtype,
                    status: status::NO_QUERY.to_string(),
                    ..DnsRow::default()
                };
                (dir.reverse(), row)
            }
        };
        row.rcode = Some(wire::rcode_name(msg.header.rcode));
        row.answer_count = u64::from(msg.header.answers);
        row.answers = msg.answers.join("; ");
        row.tc = msg.header.truncated;
        row.response_frame = Some(frame);
        row.response_time = row.query_time.map(|q| ts.since(q));
        if row.status != status::NO_QUERY {
            row.status = if row.tc {
                status::TRUNCATED
            } else {
                status::ANSWERED
            }
            .to_string();
        }
        row.note = msg.note.map(|e| e.to_string());
        self.done.push((query_dir, row));
    }

    /// A message of `dir` could not be read whole (a TCP stream's gap or
    /// its end in the middle of a message).
    pub fn lost(&mut self, dir: Dir, what: &str) {
        if let Some(open) = self.open.iter_mut().rev().find(|o| o.dir == dir.reverse()) {
            open.row.note.get_or_insert_with(|| what.to_string());
        }
    }

    /// The conversation ended: what is open stays unanswered.
    pub fn finish(&mut self) {
        self.done
            .extend(self.open.drain(..).map(|o| (o.dir, o.row)));
    }

    pub fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        if self.done.is_empty() {
            return Ok(());
        }
        let conv = cx.conv;
        // In query order: a retransmission or a late response must not
        // reorder the rows of one conversation.
        self.done
            .sort_by_key(|(_, row)| (row.query_time.is_none(), row.query_time));
        for (dir, mut row) in self.done.drain(..) {
            (row.client, row.server) = match dir {
                Dir::ToServer => (conv.client, conv.server),
                Dir::ToClient => (conv.server, conv.client),
            };
            row.conversation = conv.id;
            row.transport = conv.proto;
            self.tally.records += 1;
            emit.record(Record::Dns(row))?;
        }
        Ok(())
    }

    /// Records, never counted as reversed: a DNS row names its own client
    /// (the side that asked), so the conversation's roles stay as the
    /// flow table set them.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    #[cfg(test)]
    pub fn take_done(&mut self) -> Vec<DnsRow> {
        self.done.drain(..).map(|(_, row)| row).collect()
    }
}

#[cfg(test)]
mod test {
    use super::super::wire::test::{a_answer, message};
    use super::*;

    fn t(n: i64) -> Timestamp {
        Timestamp::from_nanos(n)
    }

    #[test]
    fn a_retransmitted_query_is_counted_and_timed_from_its_first_copy() {
        let mut l = Lookups::default();
        let q = message(5, 0x0100, "Example.COM", 1, &[]);
        l.message(Dir::ToServer, t(100), 0, &q);
        l.message(Dir::ToServer, t(1_100), 1, &q);
        let r = message(5, 0x8180, "example.com", 1, &a_answer([192, 0, 2, 9]));
        l.message(Dir::ToClient, t(1_300), 2, &r);
        // The same ID and question asked again later is a new lookup.
        l.message(Dir::ToServer, t(2_000), 3, &q);
        l.finish();
        let rows = l.take_done();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].retransmits, 1);
        assert_eq!(rows[0].response_time.map(|s| s.as_nanos()), Some(1_200));
        assert_eq!(
            (rows[0].query_frame, rows[0].response_frame),
            (Some(0), Some(2))
        );
        assert_eq!(rows[0].status, status::ANSWERED);
        assert_eq!(rows[1].status, status::UNANSWERED);
        assert_eq!(rows[1].rcode, None);
    }

    #[test]
    fn a_response_pairs_only_with_its_own_id_and_question() {
        let mut l = Lookups::default();
        l.message(
            Dir::ToServer,
            t(1),
            0,
            &message(1, 0x0100, "a.test", 1, &[]),
        );
        l.message(
            Dir::ToClient,
            t(2),
            1,
            &message(1, 0x8183, "b.test", 1, &[]),
        );
        l.message(
            Dir::ToClient,
            t(3),
            2,
            &message(1, 0x8382, "a.test", 1, &[]),
        );
        l.finish();
        let rows = l.take_done();
        let b = rows.iter().find(|r| r.name == "b.test").unwrap();
        assert_eq!(
            (b.status.as_str(), b.rcode.as_deref()),
            (status::NO_QUERY, Some("NXDOMAIN"))
        );
        let a = rows.iter().find(|r| r.name == "a.test").unwrap();
        assert_eq!(a.rcode.as_deref(), Some("SERVFAIL"));
        assert!(a.tc);
        assert_eq!(a.status, status::TRUNCATED);
    }

    #[test]
    fn open_queries_are_bounded() {
        let mut l = Lookups::default();
        for id in 0..(MAX_OPEN as u16 + 10) {
            l.message(
                Dir::ToServer,
                t(i64::from(id)),
                u64::from(id),
                &message(id, 0x0100, "x.test", 1, &[]),
            );
        }
        assert_eq!(l.open.len(), MAX_OPEN);
        assert_eq!(l.done.len(), 10, "the oldest given up as unanswered");
    }
}
