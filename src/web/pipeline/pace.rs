//! The slowest an upload body may arrive (README, "The web app", Limits):
//! fewer than [`MIN_BYTES`] in a [`WINDOW`] and the upload is given up, so
//! a client trickling a body cannot hold a connection and a staging file
//! for ever.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::BoxError;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

/// Bytes that must arrive in every [`WINDOW`].
pub const MIN_BYTES: u64 = 1024;
/// The span over which the pace is measured.
pub const WINDOW: Duration = Duration::from_secs(30);

/// A body stream that fails once a window passes with fewer than
/// `min_bytes` received in it.
pub(crate) struct Paced<S> {
    inner: S,
    min_bytes: u64,
    span: Duration,
    /// Started at the first poll: time before the server reads at all
    /// (its blocking pool busy, a queue of requests) is not the client's.
    window: Option<Pin<Box<Sleep>>>,
    got: u64,
}

impl<S> Paced<S> {
    /// At least `min_bytes` in every `span` ([`MIN_BYTES`], [`WINDOW`]).
    pub(crate) fn new(inner: S, min_bytes: u64, span: Duration) -> Paced<S> {
        Paced {
            inner,
            min_bytes,
            span,
            window: None,
            got: 0,
        }
    }

    /// At the end of a window: an error if it was too slow, else a new window.
    fn next_window(&mut self) -> Result<(), BoxError> {
        if self.got < self.min_bytes {
            return Err(format!(
                "the body arrived slower than {} bytes in {} s: given up",
                self.min_bytes,
                self.span.as_secs_f64()
            )
            .into());
        }
        self.got = 0;
        if let Some(w) = self.window.as_mut() {
            w.as_mut().reset(Instant::now() + self.span);
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
            this.window = Some(Box::pin(tokio::time::sleep(this.span)));
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

    /// A body sending `per_span` bytes in every [`SPAN`], in two chunks.
    fn trickle(per_span: usize) -> Paced<impl Stream<Item = Result<Bytes, BoxError>> + Unpin> {
        let body = Box::pin(futures_util::stream::unfold((), move |()| async move {
            tokio::time::sleep(SPAN / 2).await;
            Some((Ok(Bytes::from(vec![0; per_span / 2])), ()))
        }));
        Paced::new(body, MIN_BYTES, SPAN)
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
}
