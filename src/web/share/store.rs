//! A share link's view of the store: the one capture the link names, every
//! row passed through its view function of [`crate::redact::views`] with
//! the link's [`Redactor`], and nothing that writes. The capture pages and
//! the JSON API run over it unchanged; the views that read packet bytes
//! back find the real rows and the redactor through [`Store::redacting`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analysis::report::ConversationRow;
use crate::flow::{PacketInfo, Proto};
use crate::redact::{views, Redactor};
use crate::store::{
    Analysis, CaptureId, CaptureMeta, ConvQuery, DnsLookupRow, DnsQuery, EndpointQuery, Error,
    ExchangeRow, HttpQuery, NewCapture, Page, Result, Store,
};

/// The name a shared capture goes by (its file name may say too much).
pub(super) const SHARED_NAME: &str = "shared capture";

pub(super) struct SharedStore {
    inner: Arc<dyn Store>,
    redactor: Redactor,
    capture: CaptureId,
    /// The owner's pcap filter saved in the link, and its analysis (found
    /// once per request): the only other one the link reads.
    filter: Option<String>,
    child: Option<CaptureId>,
}

impl SharedStore {
    pub(super) fn new(
        inner: Arc<dyn Store>,
        redactor: Redactor,
        capture: CaptureId,
        filter: Option<String>,
        child: Option<CaptureId>,
    ) -> Self {
        SharedStore {
            inner,
            redactor,
            capture,
            filter,
            child,
        }
    }

    /// Only the link's capture, and its analysis with the link's filter,
    /// exist here.
    fn check(&self, id: &CaptureId) -> Result<()> {
        if *id == self.capture || Some(*id) == self.child {
            return Ok(());
        }
        Err(Error::NotFound(format!("capture {id}")))
    }

    /// A capture's facts as a viewer sees them.
    fn shown(&self, mut meta: CaptureMeta) -> CaptureMeta {
        meta.name = SHARED_NAME.to_string();
        meta.sha256 = String::new();
        if let Some(e) = meta.error.as_mut() {
            *e = views::text(&self.redactor, e);
        }
        if let Some(doc) = meta.summary.as_mut() {
            views::capture_doc(&self.redactor, doc);
        }
        meta
    }
}

/// What a share link may not do.
fn read_only() -> Error {
    Error::NotFound("a shared view changes nothing".into())
}

impl Store for SharedStore {
    fn staging_path(&self) -> Result<PathBuf> {
        Err(read_only())
    }

    fn add_capture(&self, _: &Path, _: NewCapture) -> Result<CaptureMeta> {
        Err(read_only())
    }

    fn captures(&self, _: u32, _: u64) -> Result<Page<CaptureMeta>> {
        Ok(Page {
            total: 0,
            items: Vec::new(),
        })
    }

    fn capture(&self, id: &CaptureId) -> Result<CaptureMeta> {
        self.check(id)?;
        Ok(self.shown(self.inner.capture(id)?))
    }

    fn delete_capture(&self, _: &CaptureId) -> Result<()> {
        Err(read_only())
    }

    fn recover(&self) -> Result<Vec<CaptureId>> {
        Ok(Vec::new())
    }

    fn begin_analysis(&self, _: &CaptureId) -> Result<Analysis> {
        Err(read_only())
    }

    /// A pcap-filter expression could probe for real addresses: a shared
    /// view has none.
    fn filtered(&self, _: &CaptureId, _: &str) -> Result<(CaptureMeta, bool)> {
        Err(read_only())
    }

    /// Only the link's own filter: any other could probe for real
    /// addresses.
    fn find_filtered(&self, id: &CaptureId, filter: &str) -> Result<Option<CaptureMeta>> {
        self.check(id)?;
        if self.filter.as_deref() != Some(filter) {
            return Err(read_only());
        }
        Ok(self
            .inner
            .find_filtered(id, filter)?
            .map(|meta| self.shown(meta)))
    }

    /// A shared capture stands alone: naming its parent would give away
    /// another capture's ID.
    fn parent_of(&self, id: &CaptureId) -> Result<Option<CaptureId>> {
        self.check(id)?;
        Ok(None)
    }

    fn fail(&self, _: &CaptureId, _: &str) -> Result<()> {
        Err(read_only())
    }

    fn reanalyze(&self, _: &CaptureId) -> Result<()> {
        Err(read_only())
    }

    fn conversations(&self, id: &CaptureId, q: &ConvQuery) -> Result<Page<ConversationRow>> {
        self.check(id)?;
        let mut page = self.inner.conversations(id, q)?;
        for row in &mut page.items {
            views::conversation_row(&self.redactor, row);
        }
        Ok(page)
    }

    fn conversation(&self, id: &CaptureId, conv: u64) -> Result<ConversationRow> {
        self.check(id)?;
        let mut row = self.inner.conversation(id, conv)?;
        views::conversation_row(&self.redactor, &mut row);
        Ok(row)
    }

    fn exchanges(&self, id: &CaptureId, q: &HttpQuery) -> Result<Page<ExchangeRow>> {
        self.check(id)?;
        let mut page = self.inner.exchanges(id, q)?;
        for e in &mut page.items {
            views::exchange_row(&self.redactor, &mut e.row);
        }
        Ok(page)
    }

    fn dns(&self, id: &CaptureId, q: &DnsQuery) -> Result<Page<DnsLookupRow>> {
        self.check(id)?;
        let mut page = self.inner.dns(id, q)?;
        for l in &mut page.items {
            views::dns_row(&self.redactor, &mut l.row);
        }
        Ok(page)
    }

    fn endpoints(
        &self,
        id: &CaptureId,
        q: &EndpointQuery,
    ) -> Result<Page<crate::analysis::report::EndpointRow>> {
        self.check(id)?;
        let mut page = self.inner.endpoints(id, q)?;
        for row in &mut page.items {
            views::endpoint_row(&self.redactor, row);
        }
        Ok(page)
    }

    fn endpoint_timeline(&self, id: &CaptureId) -> Result<crate::analysis::endpoints::Timeline> {
        self.check(id)?;
        let mut timeline = self.inner.endpoint_timeline(id)?;
        views::endpoint_timeline(&self.redactor, &mut timeline);
        Ok(timeline)
    }

    /// No shared view compares captures; the digest names real server
    /// addresses, so a shared store has none to give.
    fn compare_digest(&self, id: &CaptureId) -> Result<crate::analysis::diff::Digest> {
        self.check(id)?;
        Ok(crate::analysis::diff::Digest::default())
    }

    fn each_exchange(
        &self,
        id: &CaptureId,
        f: &mut dyn FnMut(&crate::analysis::report::ExchangeRow),
    ) -> Result<()> {
        self.check(id)?;
        self.inner.each_exchange(id, &mut |row| {
            let mut row = row.clone();
            views::exchange_row(&self.redactor, &mut row);
            f(&row);
        })
    }

    /// Packet rows carry no address or byte: times, flags, lengths.
    fn packets(
        &self,
        id: &CaptureId,
        conv: u64,
        limit: u32,
        offset: u64,
    ) -> Result<Page<PacketInfo>> {
        self.check(id)?;
        self.inner.packets(id, conv, limit, offset)
    }

    fn capture_file(&self, id: &CaptureId) -> Result<PathBuf> {
        self.check(id)?;
        self.inner.capture_file(id)
    }

    fn each_packet(
        &self,
        id: &CaptureId,
        conv: u64,
        from: u64,
        f: &mut dyn FnMut(&PacketInfo) -> bool,
    ) -> Result<Proto> {
        self.check(id)?;
        self.inner.each_packet(id, conv, from, f)
    }

    fn redacting(&self) -> Option<(&dyn Store, &Redactor)> {
        Some((&*self.inner, &self.redactor))
    }
}
