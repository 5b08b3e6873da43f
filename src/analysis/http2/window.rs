//! Flow control as the capture shows it (RFC 9113 §5.2, §6.9): the
//! windows each receiver grants, per connection and per stream, and the
//! stalls they cause. A sender whose window reached zero with its side of
//! the stream still open had data queued; the time until the receiver
//! opened the window again is a stall the *receiver* caused. A stall is
//! counted on a stream only when that stream sends DATA again afterwards
//! (proof that it was waiting), and only where the windows are known (the
//! sender seen from its start: its windows start from RFC 9113's
//! defaults, before the receiver's SETTINGS arrive). Stalls are kept per
//! stream and direction.

use crate::time::{Span, Timestamp};

/// RFC 9113 §6.9.2: the initial window of a connection and of a stream.
pub const DEFAULT_WINDOW: i64 = 65_535;

/// Which window held a sender up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    #[default]
    Stream,
    Connection,
}

/// What one direction of a stream waited on flow control.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stalls {
    pub total: Span,
    pub count: u32,
    /// The connection window when any stall was on it (it holds every
    /// stream of the connection at once).
    pub scope: Scope,
    /// The last stall had not ended when the capture did.
    pub open: bool,
}

impl Stalls {
    /// One more stall of `span` on a window of `scope`.
    fn add(&mut self, span: Span, scope: Scope) {
        self.total = Span::from_nanos(self.total.as_nanos().saturating_add(span.as_nanos()));
        self.count += 1;
        self.scope = self.scope.max(scope);
    }
}

/// One direction of one stream: what the sender sent, what the receiver
/// granted beyond the initial window, and a stall waiting to be confirmed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamWindow {
    sent: i64,
    granted: i64,
    blocked_since: Option<Timestamp>,
    /// A stall that ended (the window opened) but that the stream has not
    /// yet confirmed by sending more DATA.
    pending: Option<(Span, Scope)>,
    pub stalls: Stalls,
}

impl StreamWindow {
    fn window(&self, initial: i64) -> i64 {
        initial + self.granted - self.sent
    }

    fn hold(&mut self, span: Span, scope: Scope) {
        self.pending = Some(match self.pending {
            Some((s, sc)) if s >= span => (s, sc.max(scope)),
            _ => (span, scope),
        });
    }
}

/// The windows one direction's sender is bound by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// Whether the values are known (the sender was seen from its
    /// start); unknown windows report no stall.
    pub known: bool,
    conn: i64,
    /// The receiver's SETTINGS_INITIAL_WINDOW_SIZE.
    initial: i64,
    conn_blocked_since: Option<Timestamp>,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            known: false,
            conn: DEFAULT_WINDOW,
            initial: DEFAULT_WINDOW,
            conn_blocked_since: None,
        }
    }
}

impl Windows {
    /// A DATA frame of `len` bytes (padding included) at `ts`; `ended`:
    /// it carried END_STREAM. A stall the stream was waiting to confirm
    /// is counted now.
    /// (`None`: a stream not followed, whose DATA still spends the
    /// connection window.)
    pub fn data(&mut self, s: Option<&mut StreamWindow>, len: u32, ended: bool, ts: Timestamp) {
        self.conn -= i64::from(len);
        // Other streams may be the ones waiting: END_STREAM does not matter.
        if self.known && self.conn <= 0 {
            self.conn_blocked_since.get_or_insert(ts);
        }
        let Some(s) = s else {
            return;
        };
        if let Some((span, scope)) = s.pending.take() {
            s.stalls.add(span, scope);
        }
        s.sent += i64::from(len);
        if self.known && !ended && s.window(self.initial) <= 0 {
            s.blocked_since.get_or_insert(ts);
        }
    }

    /// A WINDOW_UPDATE for the stream from its receiver.
    pub fn stream_update(&mut self, s: &mut StreamWindow, increment: u32, ts: Timestamp) {
        s.granted += i64::from(increment);
        self.reopened(s, ts);
    }

    /// A WINDOW_UPDATE for the connection from the receiver: every
    /// stream still sending (`open`) waited on it too.
    pub fn connection_update<'a>(
        &mut self,
        increment: u32,
        ts: Timestamp,
        open: impl Iterator<Item = &'a mut StreamWindow>,
    ) {
        self.conn += i64::from(increment);
        if self.conn <= 0 {
            return;
        }
        let Some(since) = self.conn_blocked_since.take() else {
            return;
        };
        let span = ts.since(since);
        for s in open {
            s.hold(span, Scope::Connection);
        }
    }

    /// The receiver's SETTINGS_INITIAL_WINDOW_SIZE: every stream window
    /// moves by the difference (RFC 9113 §6.9.2).
    pub fn initial_window<'a>(
        &mut self,
        value: u32,
        ts: Timestamp,
        open: impl Iterator<Item = &'a mut StreamWindow>,
    ) {
        self.initial = i64::from(value);
        for s in open {
            self.reopened(s, ts);
        }
    }

    /// The capture ended at `ts` with the stream's side still open: a
    /// sender whose stream window, or the connection's, is closed was
    /// still waiting then (the stall counts, marked open). The
    /// connection's window counts only for a stream that sent DATA
    /// before it closed.
    pub fn capture_end(&self, s: &mut StreamWindow, ts: Timestamp) {
        if !self.known {
            return;
        }
        let (since, scope) = match (s.blocked_since, self.conn_blocked_since) {
            (Some(since), _) => (since, Scope::Stream),
            (None, Some(since)) if s.sent > 0 => (since, Scope::Connection),
            _ => return,
        };
        s.stalls.add(ts.since(since), scope);
        s.stalls.open = true;
    }

    fn reopened(&self, s: &mut StreamWindow, ts: Timestamp) {
        if s.window(self.initial) <= 0 {
            return;
        }
        if let Some(since) = s.blocked_since.take() {
            s.hold(ts.since(since), Scope::Stream);
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ms(n: i64) -> Timestamp {
        Timestamp::from_nanos(n * 1_000_000)
    }

    fn known() -> Windows {
        Windows {
            known: true,
            ..Windows::default()
        }
    }

    #[test]
    fn a_zero_stream_window_stalls_until_the_update() {
        let mut w = known();
        let mut s = StreamWindow::default();
        w.initial_window(100, ms(0), std::iter::empty());
        w.data(Some(&mut s), 60, false, ms(1));
        w.data(Some(&mut s), 40, false, ms(2));
        w.stream_update(&mut s, 100, ms(342));
        assert_eq!(s.stalls.count, 0, "not counted before more DATA");
        w.data(Some(&mut s), 10, true, ms(343));
        assert_eq!(s.stalls.count, 1);
        assert_eq!(s.stalls.total, Span::from_nanos(340_000_000));
        assert_eq!(s.stalls.scope, Scope::Stream);
    }

    #[test]
    fn a_connection_stall_holds_every_open_stream() {
        let mut w = known();
        let (mut a, mut b) = (StreamWindow::default(), StreamWindow::default());
        w.data(Some(&mut a), 40_000, false, ms(0));
        w.data(Some(&mut b), 25_535, false, ms(1));
        w.connection_update(1000, ms(51), [&mut a, &mut b].into_iter());
        w.data(Some(&mut b), 1000, false, ms(52));
        assert_eq!(b.stalls.total, Span::from_nanos(50_000_000));
        assert_eq!(b.stalls.scope, Scope::Connection);
        assert_eq!(a.stalls.count, 0, "a sent nothing more");
    }

    #[test]
    fn unknown_windows_and_ended_streams_do_not_stall() {
        let mut w = Windows::default();
        let mut s = StreamWindow::default();
        w.data(Some(&mut s), 70_000, false, ms(0));
        w.stream_update(&mut s, 70_000, ms(100));
        w.data(Some(&mut s), 1, false, ms(101));
        assert_eq!(s.stalls.count, 0);
        let mut w = known();
        let mut s = StreamWindow::default();
        w.data(Some(&mut s), 65_535, true, ms(0));
        w.stream_update(&mut s, 1, ms(100));
        assert_eq!(s.pending, None);
    }

    #[test]
    fn a_window_still_closed_at_the_capture_end_is_an_open_stall() {
        let mut w = known();
        let mut s = StreamWindow::default();
        w.initial_window(100, ms(0), std::iter::empty());
        w.data(Some(&mut s), 100, false, ms(10));
        w.capture_end(&mut s, ms(2010));
        assert_eq!(s.stalls.count, 1);
        assert_eq!(s.stalls.total, Span::from_nanos(2_000_000_000));
        assert!(s.stalls.open);
        let mut idle = StreamWindow::default();
        w.capture_end(&mut idle, ms(2010));
        assert_eq!(idle.stalls.count, 0, "an open window is no stall");
    }

    #[test]
    fn a_closed_connection_window_at_the_end_holds_streams_that_sent() {
        let mut w = known();
        let (mut a, mut quiet) = (StreamWindow::default(), StreamWindow::default());
        w.initial_window(1 << 20, ms(0), std::iter::empty());
        w.data(Some(&mut a), 65_535, false, ms(5));
        w.capture_end(&mut a, ms(105));
        w.capture_end(&mut quiet, ms(105));
        assert_eq!(a.stalls.total, Span::from_nanos(100_000_000));
        assert_eq!(a.stalls.scope, Scope::Connection);
        assert_eq!(quiet.stalls.count, 0, "it had sent nothing");
    }

    #[test]
    fn a_larger_initial_window_reopens_streams() {
        let mut w = known();
        let mut s = StreamWindow::default();
        w.initial_window(10, ms(0), std::iter::empty());
        w.data(Some(&mut s), 10, false, ms(1));
        w.initial_window(1000, ms(21), std::iter::once(&mut s));
        w.data(Some(&mut s), 10, false, ms(22));
        assert_eq!(s.stalls.total, Span::from_nanos(20_000_000));
    }
}
