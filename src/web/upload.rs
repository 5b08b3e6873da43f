//! Receiving an upload: the body (a multipart field `file`, or the raw
//! body) streams to a staging file as it arrives, hashed on the way and
//! counted against `--max-upload`. Only a complete upload is registered
//! with the store and queued; one that breaks off, or runs over the limit,
//! leaves nothing behind.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::error::{Error, Result};
use super::AppState;
use crate::store::{CaptureMeta, NewCapture};

/// Multipart framing allowed on top of the file itself.
const MULTIPART_SLACK: u64 = 64 << 10;

/// A staging file that removes itself unless the upload completes.
pub(super) struct Staging {
    pub(super) path: PathBuf,
    out: Option<tokio::io::BufWriter<tokio::fs::File>>,
    hasher: Sha256,
    pub(super) size: u64,
    head: Vec<u8>,
    limit: u64,
    pub(super) kept: bool,
}

impl Staging {
    pub(super) async fn create(path: PathBuf, limit: u64) -> Result<Staging> {
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| Error::Internal(format!("creating {}: {e}", path.display())))?;
        Ok(Staging {
            path,
            out: Some(tokio::io::BufWriter::with_capacity(1 << 20, file)),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            limit,
            kept: false,
        })
    }

    pub(super) async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(Error::TooLarge { limit: self.limit });
        }
        if self.head.len() < 2 {
            let take = (2 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        if let Some(out) = self.out.as_mut() {
            out.write_all(chunk)
                .await
                .map_err(|e| Error::Internal(format!("writing upload: {e}")))?;
        }
        Ok(())
    }

    /// Flushes and syncs the file; returns what the store needs to know.
    pub(super) async fn finish(&mut self, name: String) -> Result<NewCapture> {
        if self.size == 0 {
            return Err(Error::BadRequest(
                "the upload is empty: send a pcap or pcapng file".into(),
            ));
        }
        if let Some(mut out) = self.out.take() {
            out.flush()
                .await
                .map_err(|e| Error::Internal(format!("writing upload: {e}")))?;
            out.into_inner()
                .sync_all()
                .await
                .map_err(|e| Error::Internal(format!("syncing upload: {e}")))?;
        }
        let digest = std::mem::take(&mut self.hasher).finalize();
        Ok(NewCapture {
            name,
            size: self.size,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            gzip: self.head == [0x1f, 0x8b],
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A file name fit to show: no directories, no control characters, short.
pub(super) fn clean_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if name.trim().is_empty() {
        "upload".to_string()
    } else {
        name
    }
}

/// Whether the request is a multipart form; refuses at once (413) a body
/// whose declared length is already over `limit`.
pub(crate) fn check_declared_size(req: &Request, limit: u64) -> Result<bool> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let slack = if is_multipart { MULTIPART_SLACK } else { 0 };
    if declared.is_some_and(|n| n > limit.saturating_add(slack)) {
        return Err(Error::TooLarge { limit });
    }
    Ok(is_multipart)
}

/// Receives one upload and registers it; the caller queues the analysis.
pub async fn receive(
    state: &AppState,
    name_param: Option<String>,
    req: Request,
) -> Result<CaptureMeta> {
    let limit = state.max_upload;
    let is_multipart = check_declared_size(&req, limit)?;
    let store = state.store.clone();
    let path = tokio::task::spawn_blocking(move || store.staging_path())
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let mut staging = Staging::create(path, limit).await?;
    let name;
    if is_multipart {
        let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| {
            Error::BadRequest(format!("not a valid multipart upload: {}", e.body_text()))
        })?;
        loop {
            let field = multipart
                .next_field()
                .await
                .map_err(|e| Error::BadRequest(format!("upload broke off: {}", e.body_text())))?;
            let Some(mut field) = field else {
                return Err(Error::BadRequest(
                    "the multipart upload has no field named 'file'".into(),
                ));
            };
            if field.name() != Some("file") {
                continue;
            }
            name = clean_name(field.file_name().or(name_param.as_deref()));
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| Error::BadRequest(format!("upload broke off: {}", e.body_text())))?
            {
                staging.write(&chunk).await?;
            }
            break;
        }
    } else {
        name = clean_name(name_param.as_deref());
        let mut body = Body::into_data_stream(req.into_body());
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::BadRequest(format!("upload broke off: {e}")))?;
            staging.write(&chunk).await?;
        }
    }
    let new = staging.finish(name).await?;
    let store = state.store.clone();
    let staged = staging.path.clone();
    let meta = tokio::task::spawn_blocking(move || store.add_capture(&staged, new))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    // The file has been moved into the capture's directory.
    staging.kept = true;
    Ok(meta)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names_lose_their_paths() {
        assert_eq!(clean_name(Some("../../etc/out.pcap")), "out.pcap");
        assert_eq!(clean_name(Some("C:\\tmp\\x.pcapng")), "x.pcapng");
        assert_eq!(clean_name(Some("a\nb")), "ab");
        assert_eq!(clean_name(None), "upload");
        assert_eq!(clean_name(Some("dir/")), "upload");
    }
}
