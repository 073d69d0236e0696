//! The lake: Parquet objects under a URL (a local directory by default, or
//! `s3://bucket/prefix`), through object_store.
//!
//! Writes are atomic: an object is either absent or complete. The local
//! backend stages to a temporary file and renames; S3 PUTs (single or
//! multipart) only become visible when complete.

use anyhow::{Context, Result, anyhow};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use polars::prelude::*;
use std::io::{Cursor, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::runtime::Handle;

/// Rows per row group of [`Lake::write_parquet_gathered`] (polars' default
/// row-group size).
pub const GATHER_ROWS: usize = 512 * 512;

#[derive(Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    /// The same store when the lake is a local directory, for reading
    /// Parquet files in place.
    local: Option<Arc<object_store::local::LocalFileSystem>>,
    prefix: ObjPath,
    url: String,
    handle: Handle,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake").field("url", &self.url).finish()
    }
}

/// A `Write` into a shared buffer, so the parquet batched writer's output can
/// be taken back after `finish`.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Builds one Parquet object from frames written in turn.
pub struct ParquetBuilder {
    buf: SharedBuf,
    writer: Option<polars::io::parquet::write::BatchedWriter<SharedBuf>>,
    rows: u64,
}

impl ParquetBuilder {
    pub fn new() -> ParquetBuilder {
        ParquetBuilder {
            buf: SharedBuf::default(),
            writer: None,
            rows: 0,
        }
    }

    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        if self.writer.is_none() {
            let w = ParquetWriter::new(self.buf.clone())
                .with_compression(ParquetCompression::Snappy)
                .batched(df.schema())?;
            self.writer = Some(w);
        }
        self.writer.as_mut().expect("writer").write_batch(df)?;
        self.rows += df.height() as u64;
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The finished file; `empty` supplies the schema when nothing was
    /// written.
    pub fn finish(mut self, empty: &DataFrame) -> Result<Vec<u8>> {
        if self.writer.is_none() {
            self.write(&empty.clear())?;
        }
        self.writer.as_ref().expect("writer").finish()?;
        drop(self.writer.take());
        Ok(std::mem::take(
            &mut *self.buf.0.lock().expect("buffer lock"),
        ))
    }
}

impl Default for ParquetBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl Lake {
    /// Opens a lake from a URL or a plain directory path.
    pub fn open(url: &str, handle: Handle) -> Result<Lake> {
        Lake::open_with(url, &[], handle)
    }

    /// Opens a lake; `s3_options` are object_store S3 settings such as
    /// `("aws_endpoint", "http://127.0.0.1:9000")`, `("aws_allow_http", "true")`,
    /// `("aws_access_key_id", …)` (the binary reads them from `AWS_*`).
    pub fn open_with(url: &str, s3_options: &[(String, String)], handle: Handle) -> Result<Lake> {
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(anyhow!("lake URL `{url}` has no bucket"));
            }
            let mut builder = object_store::aws::AmazonS3Builder::new().with_bucket_name(bucket);
            for (k, v) in s3_options {
                let key: object_store::aws::AmazonS3ConfigKey =
                    k.parse().map_err(|e| anyhow!("lake option `{k}`: {e}"))?;
                builder = builder.with_config(key, v);
            }
            let store = builder
                .build()
                .with_context(|| format!("configuring S3 lake `{url}`"))?;
            return Ok(Lake {
                store: Arc::new(store),
                local: None,
                prefix: ObjPath::from(prefix.trim_matches('/')),
                url: url.to_string(),
                handle,
            });
        }
        let dir = match url.strip_prefix("file://") {
            Some(p) => p,
            None if url.contains("://") => {
                return Err(anyhow!(
                    "unsupported lake URL `{url}`: expected a directory, file:///DIR or s3://bucket/prefix"
                ));
            }
            None => url,
        };
        std::fs::create_dir_all(dir).with_context(|| format!("creating lake directory {dir}"))?;
        let store = Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(dir)
                .with_context(|| format!("opening lake directory {dir}"))?,
        );
        Ok(Lake {
            store: store.clone(),
            local: Some(store),
            prefix: ObjPath::from(""),
            url: url.to_string(),
            handle,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn path(&self, key: &str) -> ObjPath {
        let mut p = self.prefix.clone();
        for part in key.split('/').filter(|s| !s.is_empty()) {
            p = p.clone().join(part);
        }
        p
    }

    /// Runs lake IO from synchronous code. Callers are blocking threads
    /// (`spawn_blocking`, or no runtime at all); async code uses the
    /// `_async` methods instead.
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }

    /// Stores bytes under `key`, atomically.
    pub fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        self.block_on(self.put_async(key, bytes))
    }

    pub async fn put_async(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let path = self.path(key);
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .with_context(|| format!("writing {key} to the lake"))?;
        Ok(())
    }

    pub fn get(&self, key: &str) -> Result<Vec<u8>> {
        self.block_on(self.get_async(key))
    }

    pub async fn get_async(&self, key: &str) -> Result<Vec<u8>> {
        let path = self.path(key);
        let bytes = async { self.store.get(&path).await?.bytes().await }
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    anyhow!("{key} is not in the lake (run the earlier step first)")
                }
                e => anyhow!("reading {key} from the lake: {e}"),
            })?;
        Ok(bytes.to_vec())
    }

    pub fn exists(&self, key: &str) -> Result<bool> {
        let path = self.path(key);
        match self.block_on(self.store.head(&path)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(anyhow!("checking {key} in the lake: {e}")),
        }
    }

    /// Writes a frame as one Parquet object. In a local lake the file is
    /// encoded straight to a staging file next to its final name and renamed
    /// into place (atomic, and the encoded bytes are never held in memory);
    /// elsewhere it is encoded in memory and PUT.
    pub fn write_parquet(&self, key: &str, df: &mut DataFrame) -> Result<()> {
        let encode = |out: &mut dyn Write| -> Result<()> {
            ParquetWriter::new(out)
                .with_compression(ParquetCompression::Snappy)
                .finish(df)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("encoding {key}"))?;
            Ok(())
        };
        self.write_with(key, encode)
    }

    /// Writes the rows `order` picks from `df`, in that order, as one Parquet
    /// object, gathering [`GATHER_ROWS`] rows at a time: the reordered frame
    /// is never materialised whole.
    pub fn write_parquet_gathered(&self, key: &str, df: &DataFrame, order: &IdxCa) -> Result<()> {
        let encode = |out: &mut dyn Write| -> Result<()> {
            let mut writer = ParquetWriter::new(out)
                .with_compression(ParquetCompression::Snappy)
                .batched(df.schema())?;
            let mut offset = 0;
            loop {
                let len = GATHER_ROWS.min(order.len() - offset);
                let part = order.slice(offset as i64, len);
                let cols = df
                    .columns()
                    .iter()
                    .map(|c| c.take(&part).map(|c| c.rechunk()))
                    .collect::<PolarsResult<Vec<Column>>>()?;
                writer.write_batch(&DataFrame::new(len, cols)?)?;
                offset += len;
                if offset >= order.len() {
                    break;
                }
            }
            writer.finish()?;
            Ok(())
        };
        self.write_with(key, |out| {
            encode(out).with_context(|| format!("encoding {key}"))
        })
    }

    /// Runs `encode` into the object `key`: a staging file renamed into
    /// place in a local lake, a buffer PUT elsewhere.
    fn write_with(
        &self,
        key: &str,
        encode: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<()> {
        let Some(local) = &self.local else {
            let mut buf = Vec::new();
            encode(&mut buf)?;
            return self.put(key, buf);
        };
        let file = local
            .path_to_filesystem(&self.path(key))
            .map_err(|e| anyhow!("writing {key} to the lake: {e}"))?;
        let dir = file
            .parent()
            .ok_or_else(|| anyhow!("lake path {} has no parent", file.display()))?;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating lake directory {}", dir.display()))?;
        static STAGED: AtomicU64 = AtomicU64::new(0);
        let name = file
            .file_name()
            .ok_or_else(|| anyhow!("lake path {} has no file name", file.display()))?
            .to_string_lossy();
        let staging = dir.join(format!(
            ".{name}.{}-{}.staging",
            std::process::id(),
            STAGED.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| -> Result<()> {
            let mut out = std::io::BufWriter::new(
                std::fs::File::create(&staging)
                    .with_context(|| format!("writing {key} to the lake"))?,
            );
            encode(&mut out)?;
            out.flush()
                .and_then(|()| std::fs::rename(&staging, &file))
                .with_context(|| format!("writing {key} to the lake"))?;
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&staging);
        }
        written
    }

    /// The file of `key` in a local lake (`None` for an object store); an
    /// error if it does not exist.
    fn local_file(&self, key: &str) -> Result<Option<std::path::PathBuf>> {
        let Some(local) = &self.local else {
            return Ok(None);
        };
        let file = local
            .path_to_filesystem(&self.path(key))
            .map_err(|e| anyhow!("reading {key} from the lake: {e}"))?;
        if !file.is_file() {
            return Err(anyhow!(
                "{key} is not in the lake (run the earlier step first)"
            ));
        }
        Ok(Some(file))
    }

    /// A Parquet object as a lazy frame. In a local lake it is a scan of the
    /// file in place: only the columns (and row groups) a query uses are
    /// decoded, and the file's bytes are never held in memory whole. The object must not change until the
    /// scan is collected (lake objects are only ever replaced whole, by the
    /// step that owns them).
    pub fn scan_parquet(&self, key: &str) -> Result<LazyFrame> {
        let args = ScanArgsParquet {
            glob: false,
            ..ScanArgsParquet::default()
        };
        let scan = match self.local_file(key)? {
            Some(file) => {
                let file = file
                    .to_str()
                    .ok_or_else(|| anyhow!("lake path {} is not UTF-8", file.display()))?;
                LazyFrame::scan_parquet(PlRefPath::new(file), args)
            }
            // An object store: fetched and decoded whole.
            None => return Ok(self.read_parquet(key)?.lazy()),
        };
        scan.map_err(anyhow::Error::from)
            .with_context(|| format!("decoding {key}"))
    }

    /// A Parquet object decoded whole. A local file is decoded in place
    /// (its bytes are not first copied into memory).
    pub fn read_parquet(&self, key: &str) -> Result<DataFrame> {
        match self.local_file(key)? {
            Some(file) => decode_file(key, &file),
            None => decode_parquet(key, self.get(key)?),
        }
    }

    pub async fn read_parquet_async(&self, key: &str) -> Result<DataFrame> {
        let key = key.to_string();
        if let Some(file) = self.local_file(&key)? {
            return tokio::task::spawn_blocking(move || decode_file(&key, &file)).await?;
        }
        let bytes = self.get_async(&key).await?;
        tokio::task::spawn_blocking(move || decode_parquet(&key, bytes)).await?
    }
}

fn decode_file(key: &str, file: &std::path::Path) -> Result<DataFrame> {
    let f = std::fs::File::open(file).with_context(|| format!("reading {key} from the lake"))?;
    ParquetReader::new(f)
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("decoding {key}"))
}

fn decode_parquet(key: &str, bytes: Vec<u8>) -> Result<DataFrame> {
    ParquetReader::new(Cursor::new(bytes))
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("decoding {key}"))
}
