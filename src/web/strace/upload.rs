//! Receiving strace logs: every multipart field named `file` is one log
//! (`strace -ff` writes one per process), or the raw body is one log.
//! Each streams to a staging file as it arrives, counted against
//! `--max-upload` for all files together; only a complete upload is
//! registered and queued, one that breaks off leaves nothing behind.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use futures_util::StreamExt;

use super::super::error::{Error, Result};
use super::super::upload::{check_declared_size, clean_name, Staging};
use super::super::AppState;
use crate::store::{StraceFile, StraceMeta};

/// Most log files in one upload.
pub const MAX_FILES: usize = 1024;

async fn staging(state: &AppState, used: u64) -> Result<Staging> {
    let store = state.straces.store.clone();
    let path = tokio::task::spawn_blocking(move || store.staging_path())
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let left = state.max_upload.saturating_sub(used);
    if left == 0 {
        return Err(Error::TooLarge {
            limit: state.max_upload,
        });
    }
    Staging::create(path, left).await
}

/// Writes a chunk; over the limit, the error names the limit of the
/// whole upload rather than what was left of it.
async fn write(staging: &mut Staging, chunk: &[u8], limit: u64) -> Result<()> {
    staging.write(chunk).await.map_err(|e| match e {
        Error::TooLarge { .. } => Error::TooLarge { limit },
        other => other,
    })
}

async fn finish(staging: &mut Staging, name: String) -> Result<StraceFile> {
    if staging.size == 0 {
        return Err(Error::BadRequest(format!(
            "{name}: the file is empty: send the output of strace -o"
        )));
    }
    let done = staging.finish(name).await?;
    Ok(StraceFile {
        name: done.name,
        size: done.size,
        sha256: done.sha256,
    })
}

/// Receives one upload of one or several logs and registers it; the
/// caller queues the parse.
pub async fn receive(
    state: &AppState,
    name_param: Option<String>,
    req: Request,
) -> Result<StraceMeta> {
    let limit = state.max_upload;
    let is_multipart = check_declared_size(&req, limit)?;
    let mut staged: Vec<(Staging, StraceFile)> = Vec::new();
    let mut used = 0u64;
    if is_multipart {
        let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| {
            Error::BadRequest(format!("not a valid multipart upload: {}", e.body_text()))
        })?;
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| Error::BadRequest(format!("upload broke off: {}", e.body_text())))?
        {
            if field.name() != Some("file") {
                continue;
            }
            // A form submitted with no file chosen sends an empty, unnamed part.
            let raw_name = field.file_name().map(str::to_string);
            if staged.len() >= MAX_FILES {
                return Err(Error::BadRequest(format!(
                    "at most {MAX_FILES} log files in one upload"
                )));
            }
            let mut s = staging(state, used).await?;
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| Error::BadRequest(format!("upload broke off: {}", e.body_text())))?
            {
                write(&mut s, &chunk, limit).await?;
            }
            if s.size == 0 && raw_name.as_deref().is_none_or(str::is_empty) {
                continue;
            }
            used += s.size;
            let name = clean_name(raw_name.as_deref().or(name_param.as_deref()));
            let file = finish(&mut s, name).await?;
            staged.push((s, file));
        }
        if staged.is_empty() {
            return Err(Error::BadRequest(
                "the upload has no file: send each log in a multipart field named 'file'".into(),
            ));
        }
    } else {
        let mut s = staging(state, 0).await?;
        let mut body = Body::into_data_stream(req.into_body());
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::BadRequest(format!("upload broke off: {e}")))?;
            write(&mut s, &chunk, limit).await?;
        }
        let name = clean_name(name_param.as_deref());
        let file = finish(&mut s, name).await?;
        staged.push((s, file));
    }
    let files: Vec<_> = staged
        .iter()
        .map(|(s, f)| (s.path.clone(), f.clone()))
        .collect();
    let store = state.straces.store.clone();
    let meta = tokio::task::spawn_blocking(move || store.add_strace(files))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    // The files have been moved into the upload's directory.
    for (s, _) in staged.iter_mut() {
        s.kept = true;
    }
    Ok(meta)
}
