//! The slowest an upload body may arrive (README, "The web app", Limits):
//! fewer than [`Pace::min_bytes`] in a [`Pace::window`] and the upload is
//! given up, so a client trickling a body cannot hold a connection and a
//! staging file for ever. `serve --upload-pace` sets it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::BoxError;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::capture::{parse_duration, parse_size};

/// At least `min_bytes` of an upload body in every `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    pub min_bytes: u64,
    pub window: Duration,
}

impl Default for Pace {
    /// 1024 bytes in 30 s: a phone on a bad link manages it, a client
    /// holding connections open on purpose does not get far.
    fn default() -> Pace {
        Pace {
            min_bytes: 1024,
            window: Duration::from_secs(30),
        }
    }
}

impl fmt::Display for Pace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes in {} s",
            self.min_bytes,
            self.window.as_secs_f64()
        )
    }
}

impl Pace {
    /// `SIZE/DURATION`, each in the syntax of every size and duration
    /// option: `1KiB/30s`, `1024/500ms`. Both above zero.
    pub fn parse(text: &str) -> Result<Pace, String> {
        let (size, span) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: expected SIZE/DURATION, as 1KiB/30s"))?;
        let min_bytes = parse_size(size.trim()).map_err(|e| format!("{text:?}: {e}"))?;
        let window = parse_duration(span.trim()).map_err(|e| format!("{text:?}: {e}"))?;
        if min_bytes == 0 || window.is_zero() {
            return Err(format!(
                "{text:?}: both the size and the duration must be above 0"
            ));
        }
        Ok(Pace { min_bytes, window })
    }
}

/// A body stream that fails once a window passes with fewer than the
/// pace's bytes received in it.
pub(crate) struct Paced<S> {
    inner: S,
    pace: Pace,
    /// Started at the first poll: time before the server reads at all
    /// (its blocking pool busy, a queue of requests) is not the client's.
    window: Option<Pin<Box<Sleep>>>,
    got: u64,
}

impl<S> Paced<S> {
    pub(crate) fn new(inner: S, pace: Pace) -> Paced<S> {
        Paced {
            inner,
            pace,
            window: None,
            got: 0,
        }
    }

    /// At the end of a window: an error if it was too slow, else a new window.
    fn next_window(&mut self) -> Result<(), BoxError> {
        if self.got < self.pace.min_bytes {
            return Err(format!("the body arrived slower than {}: given up", self.pace).into());
        }
        self.got = 0;
        if let Some(w) = self.window.as_mut() {
            w.as_mut().reset(Instant::now() + self.pace.window);
        }
        Ok(())
    }
}

impl<S, E> Stream for Paced<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.window.is_none() {
            this.window = Some(Box::pin(tokio::time::sleep(this.pace.window)));
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if this.window.as_ref().is_some_and(|w| w.is_elapsed()) {
                    if let Err(e) = this.next_window() {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                this.got += chunk.len() as u64;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => loop {
                let Some(window) = this.window.as_mut() else {
                    return Poll::Pending;
                };
                if window.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if let Err(e) = this.next_window() {
                    return Poll::Ready(Some(Err(e)));
                }
            },
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use futures_util::StreamExt;

    const SPAN: Duration = Duration::from_millis(100);
    const MIN_BYTES: u64 = 1024;

    /// A body sending `per_span` bytes in every [`SPAN`], in two chunks.
    fn trickle(per_span: usize) -> Paced<impl Stream<Item = Result<Bytes, BoxError>> + Unpin> {
        let body = Box::pin(futures_util::stream::unfold((), move |()| async move {
            tokio::time::sleep(SPAN / 2).await;
            Some((Ok(Bytes::from(vec![0; per_span / 2])), ()))
        }));
        Paced::new(
            body,
            Pace {
                min_bytes: MIN_BYTES,
                window: SPAN,
            },
        )
    }

    #[tokio::test]
    async fn a_body_under_the_pace_is_given_up() {
        let mut body = trickle(MIN_BYTES as usize / 2);
        let mut chunks = 0;
        while let Some(Ok(_)) = body.next().await {
            chunks += 1;
            assert!(chunks < 10, "never given up");
        }
        assert!(chunks >= 1);
    }

    #[tokio::test]
    async fn the_window_starts_when_the_server_first_reads() {
        let mut body = trickle(MIN_BYTES as usize * 4);
        // The server is busy elsewhere for several windows first.
        tokio::time::sleep(SPAN * 3).await;
        for _ in 0..4 {
            assert!(body.next().await.is_some_and(|c| c.is_ok()));
        }
    }

    #[tokio::test]
    async fn a_body_at_the_pace_goes_on() {
        let mut body = trickle(MIN_BYTES as usize * 4);
        for _ in 0..20 {
            assert!(body.next().await.is_some_and(|c| c.is_ok()));
        }
    }

    #[test]
    fn a_pace_is_a_size_over_a_duration() {
        assert_eq!(
            Pace::parse("1KiB/30s"),
            Ok(Pace {
                min_bytes: 1024,
                window: Duration::from_secs(30)
            })
        );
        assert_eq!(Pace::parse("1KiB/30s"), Ok(Pace::default()));
        assert_eq!(
            Pace::parse("10MB / 500ms").map(|p| (p.min_bytes, p.window)),
            Ok((10_000_000, Duration::from_millis(500)))
        );
        for bad in ["1024", "0/30s", "1024/0s", "x/30s", "1024/soon", "/"] {
            assert!(Pace::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Pace::default().to_string(), "1024 bytes in 30 s");
    }
}
