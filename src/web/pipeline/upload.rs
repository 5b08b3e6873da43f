//! Receiving an upload: the body (multipart fields named `file`, or the
//! raw body as one file; a `team` field chooses the upload's team) streams
//! to staging files as it arrives, hashed on
//! the way and counted against `--max-upload` for all files together. A
//! staging file removes itself unless the upload completes, so one that
//! breaks off, runs over the limit, arrives too slowly or finds the disk
//! full (507) leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::pace::{Pace, Paced};
use super::Kind;
use crate::capture::free_space;
use crate::web::auth::TeamField;
use crate::web::error::{Error, Result};
use crate::web::off_thread;

/// Multipart framing allowed on top of the file itself.
const MULTIPART_SLACK: u64 = 64 << 10;

/// One received file.
#[derive(Clone, Debug)]
pub struct Received {
    /// The file name the uploader gave, cleaned ([`clean_name`]).
    pub name: String,
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// The first bytes are gzip's magic.
    pub gzip: bool,
}

/// A staging file that removes itself unless the upload completes.
pub(crate) struct Staging {
    pub(crate) path: PathBuf,
    out: Option<tokio::io::BufWriter<tokio::fs::File>>,
    hasher: Sha256,
    pub(crate) size: u64,
    head: Vec<u8>,
    /// The last 4 bytes written: a gzip file's ISIZE trailer.
    tail: [u8; 4],
    limit: u64,
    /// What the whole upload declared it would send (0: not declared).
    declared: u64,
    pub(crate) kept: bool,
}

impl Staging {
    pub(crate) async fn create(path: PathBuf, limit: u64, declared: u64) -> Result<Staging> {
        let file = match tokio::fs::File::create(&path).await {
            Ok(f) => f,
            Err(e) => return Err(write_failed(&path, declared, "creating", e)),
        };
        Ok(Staging {
            path,
            out: Some(tokio::io::BufWriter::with_capacity(1 << 20, file)),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            tail: [0; 4],
            limit,
            declared,
            kept: false,
        })
    }

    pub(crate) async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(Error::TooLarge { limit: self.limit });
        }
        if self.head.len() < 2 {
            let take = (2 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        if chunk.len() >= 4 {
            self.tail.copy_from_slice(&chunk[chunk.len() - 4..]);
        } else {
            self.tail.rotate_left(chunk.len());
            self.tail[4 - chunk.len()..].copy_from_slice(chunk);
        }
        self.hasher.update(chunk);
        if let Some(out) = self.out.as_mut() {
            if let Err(e) = out.write_all(chunk).await {
                return Err(self.failed("writing", e));
            }
        }
        Ok(())
    }

    /// Flushes and syncs the file; returns what the store needs to know.
    async fn finish<K: Kind>(&mut self, name: String) -> Result<Received> {
        if self.size == 0 {
            return Err(Error::BadRequest(K::empty(&name)));
        }
        if let Some(mut out) = self.out.take() {
            if let Err(e) = out.flush().await {
                return Err(self.failed("writing", e));
            }
            if let Err(e) = out.into_inner().sync_all().await {
                return Err(self.failed("syncing", e));
            }
        }
        let gzip = self.head == [0x1f, 0x8b];
        if let Some(inflated) = gzip
            .then(|| gzip_inflates_to_at_least(self.size, self.tail))
            .flatten()
        {
            // Its decompressed copy is written next to it before the
            // analysis: refused now (507) if that cannot fit.
            room_for(self.path.clone(), inflated).await?;
        }
        let digest = std::mem::take(&mut self.hasher).finalize();
        Ok(Received {
            name,
            size: self.size,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            gzip,
        })
    }

    fn failed(&self, doing: &str, e: std::io::Error) -> Error {
        write_failed(&self.path, self.declared.max(self.size), doing, e)
    }
}

/// The fewest bytes a gzip file of `size` bytes ending in `tail` inflates
/// to, by its ISIZE trailer: the inflated length mod 2^32 of its last
/// member. The true size is ISIZE + k * 2^32 for an unknown k >= 0, and
/// other members add to it, so ISIZE is a floor, never an estimate from
/// above; `None` for a file too short to be gzip (a header and a trailer).
fn gzip_inflates_to_at_least(size: u64, tail: [u8; 4]) -> Option<u64> {
    const SMALLEST_GZIP: u64 = 18;
    (size >= SMALLEST_GZIP).then(|| u64::from(u32::from_le_bytes(tail)))
}

/// A failed write of a staging file: 507 when the disk is full (`needs`:
/// the bytes the upload is known to need), else an internal error.
fn write_failed(path: &Path, needs: u64, doing: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::StorageFull {
        let free = free_space(path.parent().unwrap_or(path)).map_or(0, |s| s.avail);
        return Error::InsufficientStorage { free, needs };
    }
    Error::Internal(format!("{doing} {}: {e}", path.display()))
}

/// Refuses at once (507) an upload that declared more bytes than the file
/// system of its staging files has free.
async fn check_room<K: Kind>(kind: &Arc<K>, declared: u64) -> Result<()> {
    let path = off_thread(kind.clone(), |k| k.staging_path().map_err(K::store_error)).await?;
    room_for(path, declared).await
}

/// 507 when the file system of `path` has fewer than `needs` bytes free.
async fn room_for(path: PathBuf, needs: u64) -> Result<()> {
    let space = tokio::task::spawn_blocking(move || free_space(path.parent().unwrap_or(&path)))
        .await
        .map_err(|e| Error::Internal(format!("blocking task: {e}")))?;
    match space {
        Ok(space) if space.avail < needs => Err(Error::InsufficientStorage {
            free: space.avail,
            needs,
        }),
        // Not knowing the free space is no reason to refuse: a full disk
        // still answers 507 when a write fails.
        _ => Ok(()),
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
pub(crate) fn clean_name(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if name.trim().is_empty() {
        "upload".to_string()
    } else {
        name
    }
}

/// Whether the request's body is a multipart form.
pub(crate) fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Whether the request is a multipart form, and its declared length;
/// refuses at once (413) a body whose declared length is already over `limit`.
fn check_declared_size(req: &Request, limit: u64) -> Result<(bool, Option<u64>)> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let is_multipart = is_multipart(req);
    let slack = if is_multipart { MULTIPART_SLACK } else { 0 };
    if declared.is_some_and(|n| n > limit.saturating_add(slack)) {
        return Err(Error::TooLarge { limit });
    }
    Ok((is_multipart, declared))
}

/// Most files in one upload of a kind with [`Kind::MANY_FILES`].
pub const MAX_FILES: usize = 1024;

/// A staging file for the next file, allowed what is left of `limit`.
async fn staging<K: Kind>(kind: &Arc<K>, limit: u64, used: u64, declared: u64) -> Result<Staging> {
    let path = off_thread(kind.clone(), |k| k.staging_path().map_err(K::store_error)).await?;
    let left = limit.saturating_sub(used);
    if left == 0 {
        return Err(Error::TooLarge { limit });
    }
    Staging::create(path, left, declared).await
}

/// Writes a chunk; over the limit, the error names the limit of the
/// whole upload rather than what was left of it.
async fn write(staging: &mut Staging, chunk: &[u8], limit: u64) -> Result<()> {
    staging.write(chunk).await.map_err(|e| match e {
        Error::TooLarge { .. } => Error::TooLarge { limit },
        other => other,
    })
}

fn broke_off(e: axum::extract::multipart::MultipartError) -> Error {
    Error::BadRequest(format!("upload broke off: {}", e.body_text()))
}

/// Receives the files of one upload into staging files, and its side
/// part ([`Kind::SIDE_PART`]) into memory.
pub(super) async fn receive<K: Kind>(
    kind: &Arc<K>,
    limit: u64,
    pace: Pace,
    name_param: Option<String>,
    req: Request,
) -> Result<(Vec<(Staging, Received)>, Option<Vec<u8>>)> {
    let (is_multipart, declared) = check_declared_size(&req, limit)?;
    let team = TeamField::of(&req);
    let req = req.map(|body| Body::from_stream(Paced::new(body.into_data_stream(), pace)));
    if let Some(n) = declared {
        check_room(kind, n).await?;
    }
    let declared = declared.unwrap_or(0);
    let mut staged: Vec<(Staging, Received)> = Vec::new();
    if !is_multipart {
        let mut s = staging(kind, limit, 0, declared).await?;
        let mut body = Body::into_data_stream(req.into_body());
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::BadRequest(format!("upload broke off: {e}")))?;
            write(&mut s, &chunk, limit).await?;
        }
        let file = s.finish::<K>(clean_name(name_param.as_deref())).await?;
        staged.push((s, file));
        return Ok((staged, None));
    }
    // Multipart parsing buffers a part's headers until their end: bound the
    // whole body, so a part whose headers never end cannot grow that buffer
    // past the upload limit (file data hits `write`'s 413 first).
    let cap = limit.saturating_add(MULTIPART_SLACK);
    let (parts, body) = req.into_parts();
    let mut seen = 0u64;
    let capped = body.into_data_stream().map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len() as u64);
        if seen > cap {
            return Err(axum::Error::new(std::io::Error::other(format!(
                "the upload is larger than the {cap}-byte limit of this server (--max-upload)"
            ))));
        }
        Ok(chunk)
    });
    let req = Request::from_parts(parts, Body::from_stream(capped));
    let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| {
        Error::BadRequest(format!("not a valid multipart upload: {}", e.body_text()))
    })?;
    let mut used = 0u64;
    // Every `file` part counts, kept or skipped as empty: each costs a
    // staging file.
    let mut file_parts = 0usize;
    let mut side = None;
    while let Some(mut field) = multipart.next_field().await.map_err(broke_off)? {
        if field.name() == Some(TeamField::NAME) {
            let value = crate::web::keylog::read_field(&mut field, TeamField::MAX_LEN).await?;
            if let Some(team) = &team {
                team.choose(&value).await?;
            }
            continue;
        }
        if let Some((name, max)) = K::SIDE_PART {
            if field.name() == Some(name) && side.is_none() {
                let bytes = crate::web::keylog::read_field(&mut field, max).await?;
                // A form submitted with no file chosen sends an empty part.
                side = (!bytes.is_empty()).then_some(bytes);
                continue;
            }
        }
        if field.name() != Some("file") || (!K::MANY_FILES && !staged.is_empty()) {
            continue;
        }
        let raw_name = field.file_name().map(str::to_string);
        file_parts += 1;
        if file_parts > MAX_FILES {
            return Err(Error::BadRequest(format!(
                "at most {MAX_FILES} files in one upload"
            )));
        }
        let mut s = staging(kind, limit, used, declared).await?;
        while let Some(chunk) = field.chunk().await.map_err(broke_off)? {
            write(&mut s, &chunk, limit).await?;
        }
        // A form submitted with no file chosen sends an empty, unnamed part.
        if K::MANY_FILES && s.size == 0 && raw_name.as_deref().is_none_or(str::is_empty) {
            continue;
        }
        used += s.size;
        let name = clean_name(raw_name.as_deref().or(name_param.as_deref()));
        let file = s.finish::<K>(name).await?;
        staged.push((s, file));
        if !K::MANY_FILES && K::SIDE_PART.is_none() {
            break;
        }
    }
    if staged.is_empty() {
        return Err(Error::BadRequest(K::no_file().into()));
    }
    Ok((staged, side))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_gzip_trailer_is_a_floor_on_its_inflated_size() {
        use std::io::Write;
        let data = vec![7u8; 300_000];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let file = gz.finish().unwrap();
        let mut tail = [0u8; 4];
        tail.copy_from_slice(&file[file.len() - 4..]);
        let floor = gzip_inflates_to_at_least(file.len() as u64, tail);
        assert_eq!(floor, Some(300_000));
        assert_eq!(gzip_inflates_to_at_least(10, tail), None);
    }

    #[tokio::test]
    async fn the_tail_is_the_last_four_bytes_whatever_the_chunks() {
        let path = std::env::temp_dir().join(format!("tracedeck-tail-{}", std::process::id()));
        let mut s = Staging::create(path, 1 << 20, 0).await.unwrap();
        for chunk in [&b"\x1f\x8babcdefgh"[..], b"12", b"3", b"", b"456789", b"x"] {
            s.write(chunk).await.unwrap();
        }
        assert_eq!(&s.tail, b"789x");
    }

    #[test]
    fn names_lose_their_paths() {
        assert_eq!(clean_name(Some("../../etc/out.pcap")), "out.pcap");
        assert_eq!(clean_name(Some("C:\\tmp\\x.pcapng")), "x.pcapng");
        assert_eq!(clean_name(Some("a\nb")), "ab");
        assert_eq!(clean_name(None), "upload");
        assert_eq!(clean_name(Some("dir/")), "upload");
    }
}
