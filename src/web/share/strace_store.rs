//! A share link's view of the strace store: the one log upload the link
//! names, its parsed model passed whole through
//! [`crate::redact::strace::trace`] with the link's [`Redactor`], and
//! nothing that writes. The strace pages and their JSON twins run over it
//! unchanged, so every view (syscall table and its text search, summary,
//! files, process tree, pauses, timeline) computes from redacted text and
//! the original's numbers.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::redact::{self, Redactor};
use crate::store::{
    lock, Error, Page, Result, StraceFile, StraceId, StraceInputs, StraceMeta, StraceStore,
};
use crate::strace::Trace;

/// The name a shared log goes by (its file name may say too much).
const SHARED_NAME: &str = "shared strace log";

/// Redacted models kept for the links opened last: redacting a large log
/// costs about as much as copying it, and a viewer opens page after page.
const CACHED: usize = 2;

/// (link number, the model it was made from, the redacted model).
type Cached = (i64, Arc<Trace>, Arc<Trace>);

static REDACTED: Mutex<VecDeque<Cached>> = Mutex::new(VecDeque::new());

pub(super) struct SharedStraces {
    inner: Arc<dyn StraceStore>,
    redactor: Redactor,
    upload: StraceId,
    /// The link's number: its redactor's key is its own.
    link: i64,
}

impl SharedStraces {
    pub(super) fn new(
        inner: Arc<dyn StraceStore>,
        redactor: Redactor,
        upload: StraceId,
        link: i64,
    ) -> Self {
        SharedStraces {
            inner,
            redactor,
            upload,
            link,
        }
    }

    /// Only the link's upload exists here.
    fn check(&self, id: &StraceId) -> Result<()> {
        if *id == self.upload {
            Ok(())
        } else {
            Err(Error::NotFound(format!("strace log {id}")))
        }
    }
}

fn read_only() -> Error {
    Error::NotFound("a shared view changes nothing".into())
}

impl StraceStore for SharedStraces {
    fn staging_path(&self) -> Result<PathBuf> {
        Err(read_only())
    }

    fn add_strace(&self, _: Vec<(PathBuf, StraceFile)>) -> Result<StraceMeta> {
        Err(read_only())
    }

    fn straces(&self, _: u32, _: u64) -> Result<Page<StraceMeta>> {
        Ok(Page {
            total: 0,
            items: Vec::new(),
        })
    }

    /// Names and digests of the files go; sizes and counts stay.
    fn strace(&self, id: &StraceId) -> Result<StraceMeta> {
        self.check(id)?;
        let mut meta = self.inner.strace(id)?;
        meta.name = SHARED_NAME.to_string();
        for (i, f) in meta.files.iter_mut().enumerate() {
            f.name = redact::strace::input_name(i, &f.name);
            f.sha256 = String::new();
        }
        if let Some(e) = meta.error.as_mut() {
            *e = "the log could not be parsed".to_string();
        }
        Ok(meta)
    }

    fn delete_strace(&self, _: &StraceId) -> Result<()> {
        Err(read_only())
    }

    fn recover(&self) -> Result<Vec<StraceId>> {
        Ok(Vec::new())
    }

    fn begin_parse(&self, _: &StraceId) -> Result<StraceInputs> {
        Err(read_only())
    }

    fn finish_parse(&self, _: &StraceId, _: Trace, _: &serde_json::Value) -> Result<()> {
        Err(read_only())
    }

    fn fail(&self, _: &StraceId, _: &str) -> Result<()> {
        Err(read_only())
    }

    fn trace(&self, id: &StraceId) -> Result<Arc<Trace>> {
        self.check(id)?;
        let source = self.inner.trace(id)?;
        let hit = lock(&REDACTED)
            .iter()
            .find(|(link, from, _)| *link == self.link && Arc::ptr_eq(from, &source))
            .map(|(_, _, redacted)| redacted.clone());
        if let Some(redacted) = hit {
            return Ok(redacted);
        }
        let redacted = Arc::new(redact::strace::trace(&self.redactor, &source));
        let mut cache = lock(&REDACTED);
        cache.retain(|(link, _, _)| *link != self.link);
        if cache.len() >= CACHED {
            cache.pop_front();
        }
        cache.push_back((self.link, source, redacted.clone()));
        Ok(redacted)
    }
}
