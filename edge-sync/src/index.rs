//! The offline stolen-IMEI index: exact membership of millions of IMEIs, with the report date and
//! theft location of each, answered with no network.
//!
//! Keys are IMEI bodies (the 14 digits before the Luhn digit, < 2^47). They are kept sorted and
//! split by their top 15 bits into buckets; inside a bucket only the low 32 bits are stored, so a
//! key costs 4 bytes and a lookup is one bucket range plus a binary search over `u32`s. Each key
//! has a `u32` id into a small table of distinct (date, location) pairs, read only on a hit.
//!
//! On disk an index is a directory with up to two files in one format (see `Header` and [`Raw`]):
//! - `base.idx`: a full state at some version (from a snapshot or a compaction),
//! - `overlay.idx`: changes since the base (new, changed and removed IMEIs), written by each
//!   delta. It counts only while its `base_version` equals the base's version.
//!
//! Every write is a temp file, fsynced, renamed and the directory fsynced ([`crate::fsutil`]), so
//! a crash leaves the old state or the new one. A delta rewrites only the overlay (O(overlay));
//! when the overlay grows past a threshold it is merged into a new base.
//!
//! The version chain rules (signatures, rollback, base hash, result hash) are
//! `jachai_protocol::stolen`'s; this module applies deltas only after [`check_delta`] and checks
//! the resulting state hash before anything is written.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jachai_protocol::stolen::{
    check_delta, check_result, entry_digest, Held, StateHash, StolenDelta, StolenEntry,
};
use jachai_protocol::ProtocolError;

use crate::fsutil;

const MAGIC: &[u8; 8] = b"JACHIDX1";
const HEADER_LEN: u64 = 128;
const BUCKET_SHIFT: u32 = 32;
/// IMEI bodies are below 10^14 < 2^47, so 2^15 buckets of 2^32 keys.
const BUCKETS: usize = 1 << 15;
const TOMBSTONE: u32 = u32::MAX;
const KIND_BASE: u64 = 0;
const KIND_OVERLAY: u64 = 1;
/// Largest IMEI body + 1.
const BODY_LIMIT: u64 = 100_000_000_000_000;

/// File names inside an index directory.
pub const BASE_FILE: &str = "base.idx";
/// See [`BASE_FILE`].
pub const OVERLAY_FILE: &str = "overlay.idx";

/// What can go wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading or writing a file failed.
    #[error("stolen index {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file is not an index or is damaged.
    #[error("stolen index {path} is corrupt: {why}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A delta or snapshot broke the protocol's rules; nothing was changed.
    #[error(transparent)]
    Refused(#[from] ProtocolError),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A stolen phone's report, returned by a lookup hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Report date, `YYYY-MM-DD`.
    pub reported_at: String,
    /// Theft location.
    pub theft_location: String,
}

type Pair = Arc<(String, String)>;

/// How the base's keys are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Keys in memory (4 bytes each): sub-microsecond lookups, for the long-running kiosk app.
    Memory,
    /// Keys read with positioned reads (page cache): tiny memory, for one-shot `lookup`.
    File,
}

#[derive(Debug, Clone, Copy)]
struct Header {
    kind: u64,
    version: u64,
    base_version: u64,
    hash: StateHash,
    n: u64,
    total: u64,
    pairs: u64,
    pair_bytes: u64,
}

impl Header {
    fn offsets_at(&self) -> u64 {
        HEADER_LEN
    }
    fn lows_at(&self) -> u64 {
        HEADER_LEN + 4 * (BUCKETS as u64 + 1)
    }
    fn metas_at(&self) -> u64 {
        self.lows_at() + 4 * self.n
    }
    fn pair_offsets_at(&self) -> u64 {
        self.metas_at() + 4 * self.n
    }
    fn pairs_at(&self) -> u64 {
        self.pair_offsets_at() + 4 * (self.pairs + 1)
    }
    fn file_len(&self) -> u64 {
        self.pairs_at() + self.pair_bytes
    }

    fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut h = [0u8; HEADER_LEN as usize];
        h[0..8].copy_from_slice(MAGIC);
        h[8..16].copy_from_slice(&self.kind.to_le_bytes());
        h[16..24].copy_from_slice(&self.version.to_le_bytes());
        h[24..32].copy_from_slice(&self.base_version.to_le_bytes());
        h[32..64].copy_from_slice(&self.hash.to_bytes());
        h[64..72].copy_from_slice(&self.n.to_le_bytes());
        h[72..80].copy_from_slice(&self.total.to_le_bytes());
        h[80..88].copy_from_slice(&self.pairs.to_le_bytes());
        h[88..96].copy_from_slice(&self.pair_bytes.to_le_bytes());
        h
    }

    fn decode(
        path: &Path,
        h: &[u8; HEADER_LEN as usize],
        file_len: u64,
    ) -> Result<Self, IndexError> {
        let corrupt = |why: &str| IndexError::Corrupt {
            path: path.to_owned(),
            why: why.to_owned(),
        };
        if &h[0..8] != MAGIC {
            return Err(corrupt("not a jachai stolen index (bad magic)"));
        }
        let u = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let mut hash = [0u8; 32];
        hash.copy_from_slice(&h[32..64]);
        let header = Self {
            kind: u(8),
            version: u(16),
            base_version: u(24),
            hash: StateHash::from_bytes(&hash),
            n: u(64),
            total: u(72),
            pairs: u(80),
            pair_bytes: u(88),
        };
        if header.kind > KIND_OVERLAY
            || header.n > u64::from(u32::MAX)
            || header.pairs >= u64::from(TOMBSTONE)
        {
            return Err(corrupt("bad header"));
        }
        if header.file_len() != file_len {
            return Err(corrupt("length does not match the header (truncated?)"));
        }
        Ok(header)
    }
}

/// One index file opened for reading.
#[derive(Debug)]
struct TableFile {
    path: PathBuf,
    file: File,
    header: Header,
    offsets: Vec<u32>,
    lows: Option<Vec<u32>>,
}

fn read_u32s(r: &mut impl Read, n: usize) -> io::Result<Vec<u32>> {
    let mut out = Vec::with_capacity(n);
    let mut buf = vec![0u8; 1 << 16];
    let mut left = n;
    while left > 0 {
        let take = left.min(buf.len() / 4);
        let bytes = &mut buf[..take * 4];
        r.read_exact(bytes)?;
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        left -= take;
    }
    Ok(out)
}

impl TableFile {
    fn open(path: &Path, mode: LoadMode) -> Result<Self, IndexError> {
        let file = File::open(path).map_err(io_at(path))?;
        let len = file.metadata().map_err(io_at(path))?.len();
        let mut h = [0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut h, 0).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                IndexError::Corrupt {
                    path: path.to_owned(),
                    why: "shorter than its header".into(),
                }
            } else {
                IndexError::Io {
                    path: path.to_owned(),
                    source: e,
                }
            }
        })?;
        let header = Header::decode(path, &h, len)?;
        (&file)
            .seek(SeekFrom::Start(header.offsets_at()))
            .map_err(io_at(path))?;
        let mut reader = BufReader::with_capacity(1 << 20, &file);
        let offsets = read_u32s(&mut reader, BUCKETS + 1).map_err(io_at(path))?;
        let sorted = offsets.windows(2).all(|w| w[0] <= w[1]);
        if !sorted || offsets[0] != 0 || u64::from(offsets[BUCKETS]) != header.n {
            return Err(IndexError::Corrupt {
                path: path.to_owned(),
                why: "bucket offsets out of order".into(),
            });
        }
        let lows = match mode {
            LoadMode::Memory => {
                Some(read_u32s(&mut reader, to_usize(header.n)).map_err(io_at(path))?)
            }
            LoadMode::File => None,
        };
        drop(reader);
        Ok(Self {
            path: path.to_owned(),
            file,
            header,
            offsets,
            lows,
        })
    }

    fn u32_at(&self, at: u64) -> Result<u32, IndexError> {
        let mut b = [0u8; 4];
        self.file
            .read_exact_at(&mut b, at)
            .map_err(io_at(&self.path))?;
        Ok(u32::from_le_bytes(b))
    }

    /// Position of `key` in the file, if present.
    fn find(&self, key: u64) -> Result<Option<usize>, IndexError> {
        let bucket = to_usize(key >> BUCKET_SHIFT);
        if bucket >= BUCKETS {
            return Ok(None);
        }
        // The low 32 bits; the bucket holds the rest.
        let low = (key & u64::from(u32::MAX)) as u32;
        let (lo, hi) = (
            to_usize(u64::from(self.offsets[bucket])),
            to_usize(u64::from(self.offsets[bucket + 1])),
        );
        if let Some(lows) = &self.lows {
            return Ok(lows[lo..hi].binary_search(&low).ok().map(|i| lo + i));
        }
        let (mut lo, mut hi) = (lo, hi);
        let base = self.header.lows_at();
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let v = self.u32_at(base + 4 * mid as u64)?;
            match v.cmp(&low) {
                std::cmp::Ordering::Equal => return Ok(Some(mid)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(None)
    }

    fn meta(&self, pos: usize) -> Result<u32, IndexError> {
        self.u32_at(self.header.metas_at() + 4 * pos as u64)
    }

    fn pair(&self, id: u32) -> Result<(String, String), IndexError> {
        let corrupt = |why: &str| IndexError::Corrupt {
            path: self.path.clone(),
            why: why.to_owned(),
        };
        if u64::from(id) >= self.header.pairs {
            return Err(corrupt("pair id out of range"));
        }
        let at = self.header.pair_offsets_at() + 4 * u64::from(id);
        let (start, end) = (self.u32_at(at)?, self.u32_at(at + 4)?);
        if start > end || u64::from(end) > self.header.pair_bytes {
            return Err(corrupt("pair offsets out of range"));
        }
        let mut bytes = vec![0u8; to_usize(u64::from(end - start))];
        self.file
            .read_exact_at(&mut bytes, self.header.pairs_at() + u64::from(start))
            .map_err(io_at(&self.path))?;
        decode_pair(&bytes).ok_or_else(|| corrupt("bad pair record"))
    }

    /// The entry at `pos`: `None` for a tombstone.
    fn entry(&self, pos: usize) -> Result<Option<(String, String)>, IndexError> {
        match self.meta(pos)? {
            TOMBSTONE => Ok(None),
            id => self.pair(id).map(Some),
        }
    }

    /// The whole file as arrays (reads it sequentially).
    fn read_raw(&self) -> Result<Raw, IndexError> {
        let n = to_usize(self.header.n);
        let mut file = &self.file;
        file.seek(SeekFrom::Start(self.header.lows_at()))
            .map_err(io_at(&self.path))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let lows = read_u32s(&mut reader, n).map_err(io_at(&self.path))?;
        let metas = read_u32s(&mut reader, n).map_err(io_at(&self.path))?;
        let pair_offsets =
            read_u32s(&mut reader, to_usize(self.header.pairs) + 1).map_err(io_at(&self.path))?;
        let mut pair_bytes = vec![0u8; to_usize(self.header.pair_bytes)];
        reader
            .read_exact(&mut pair_bytes)
            .map_err(io_at(&self.path))?;
        let raw = Raw {
            offsets: self.offsets.clone(),
            lows,
            metas,
            pair_offsets,
            pair_bytes,
        };
        let pairs = raw.pair_offsets.len().saturating_sub(1);
        let bad_meta = raw
            .metas
            .iter()
            .any(|&m| m != TOMBSTONE && to_usize(u64::from(m)) >= pairs);
        let bad_pairs = raw.pair_offsets.windows(2).any(|w| w[0] > w[1])
            || raw.pair_offsets.last().map(|&e| u64::from(e)) != Some(self.header.pair_bytes);
        if bad_meta || bad_pairs {
            return Err(IndexError::Corrupt {
                path: self.path.clone(),
                why: "bad pair table".into(),
            });
        }
        Ok(raw)
    }
}

/// An index file's arrays, as written.
#[derive(Debug, Default)]
struct Raw {
    offsets: Vec<u32>,
    lows: Vec<u32>,
    metas: Vec<u32>,
    pair_offsets: Vec<u32>,
    pair_bytes: Vec<u8>,
}

impl Raw {
    fn empty() -> Self {
        Self {
            offsets: vec![0; BUCKETS + 1],
            pair_offsets: vec![0],
            ..Self::default()
        }
    }

    /// Visit (key, meta) in key order.
    fn for_each(&self, mut f: impl FnMut(u64, u32)) {
        for bucket in 0..BUCKETS {
            let (lo, hi) = (
                self.offsets[bucket] as usize,
                self.offsets[bucket + 1] as usize,
            );
            for i in lo..hi {
                f(
                    ((bucket as u64) << BUCKET_SHIFT) | u64::from(self.lows[i]),
                    self.metas[i],
                );
            }
        }
    }

    /// Append a key (above every key so far) with its meta id.
    fn push(&mut self, key: u64, meta: u32) {
        let bucket = to_usize(key >> BUCKET_SHIFT);
        self.offsets[bucket + 1] += 1;
        self.lows.push((key & u64::from(u32::MAX)) as u32);
        self.metas.push(meta);
    }

    /// Turn per-bucket counts (from [`Self::push`]) into start offsets.
    fn finish_offsets(&mut self) {
        for b in 0..BUCKETS {
            self.offsets[b + 1] += self.offsets[b];
        }
    }

    /// Append an already encoded pair record; its id.
    fn add_pair_bytes(&mut self, record: &[u8]) -> u32 {
        self.pair_bytes.extend_from_slice(record);
        self.pair_offsets
            .push(u32::try_from(self.pair_bytes.len()).unwrap_or(u32::MAX));
        u32::try_from(self.pair_offsets.len() - 2).unwrap_or(TOMBSTONE)
    }

    /// Append a pair record; its id.
    fn add_pair(&mut self, pair: &(String, String)) -> u32 {
        for text in [&pair.0, &pair.1] {
            let text = truncate_utf8(text, usize::from(u16::MAX));
            self.pair_bytes
                .extend_from_slice(&u16::try_from(text.len()).unwrap_or(u16::MAX).to_le_bytes());
            self.pair_bytes.extend_from_slice(text.as_bytes());
        }
        self.pair_offsets
            .push(u32::try_from(self.pair_bytes.len()).unwrap_or(u32::MAX));
        u32::try_from(self.pair_offsets.len() - 2).unwrap_or(TOMBSTONE)
    }
}

/// The overlay in memory: each changed key's pair id (or [`TOMBSTONE`]) and its own pair table.
#[derive(Debug, Default)]
struct Overlay {
    entries: BTreeMap<u64, u32>,
    pairs: Vec<Pair>,
    ids: HashMap<Pair, u32>,
}

impl Overlay {
    fn from_raw(raw: &Raw, path: &Path) -> Result<Self, IndexError> {
        let corrupt = || IndexError::Corrupt {
            path: path.to_owned(),
            why: "bad pair record".into(),
        };
        let mut overlay = Self::default();
        for w in raw.pair_offsets.windows(2) {
            let bytes = raw
                .pair_bytes
                .get(to_usize(u64::from(w[0]))..to_usize(u64::from(w[1])))
                .ok_or_else(corrupt)?;
            let pair = Arc::new(decode_pair(bytes).ok_or_else(corrupt)?);
            let id = u32::try_from(overlay.pairs.len()).unwrap_or(TOMBSTONE);
            overlay.ids.entry(pair.clone()).or_insert(id);
            overlay.pairs.push(pair);
        }
        raw.for_each(|k, meta| {
            overlay.entries.insert(k, meta);
        });
        Ok(overlay)
    }

    /// `None`: the key is not in the overlay; `Some(None)`: removed; `Some(Some(pair))`: listed.
    fn get(&self, key: u64) -> Option<Option<&Pair>> {
        self.entries
            .get(&key)
            .map(|&meta| self.pairs.get(to_usize(u64::from(meta))))
    }

    /// The overlay with `changes` (sorted by key; ids into `pairs` + `new_pairs`) as arrays.
    fn merged_raw(&self, changes: &[(u64, u32)], new_pairs: &[Pair]) -> Raw {
        let mut raw = Raw::empty();
        for p in self.pairs.iter().chain(new_pairs) {
            raw.add_pair(p);
        }
        let mut over = changes.iter().peekable();
        for (&k, &meta) in &self.entries {
            while let Some(&&(c, m)) = over.peek() {
                if c >= k {
                    break;
                }
                raw.push(c, m);
                over.next();
            }
            match over.peek() {
                Some(&&(c, m)) if c == k => {
                    raw.push(c, m);
                    over.next();
                }
                _ => raw.push(k, meta),
            }
        }
        for &(c, m) in over {
            raw.push(c, m);
        }
        raw.finish_offsets();
        raw
    }
}

/// Write `raw` as an index file, atomically.
fn write_raw(
    path: &Path,
    kind: u64,
    version: u64,
    base_version: u64,
    hash: StateHash,
    total: u64,
    raw: &Raw,
) -> Result<(), IndexError> {
    if raw.pair_bytes.len() >= u32::MAX as usize {
        return Err(IndexError::Corrupt {
            path: path.to_owned(),
            why: "pair table over 4 GiB".into(),
        });
    }
    let header = Header {
        kind,
        version,
        base_version,
        hash,
        n: raw.lows.len() as u64,
        total,
        pairs: raw.pair_offsets.len().saturating_sub(1) as u64,
        pair_bytes: raw.pair_bytes.len() as u64,
    };
    fsutil::write_atomic(path, |w| {
        w.write_all(&header.encode())?;
        for list in [&raw.offsets, &raw.lows, &raw.metas, &raw.pair_offsets] {
            for v in list.iter() {
                w.write_all(&v.to_le_bytes())?;
            }
        }
        w.write_all(&raw.pair_bytes)
    })
    .map_err(io_at(path))
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn decode_pair(bytes: &[u8]) -> Option<(String, String)> {
    let take = |b: &[u8]| -> Option<(String, usize)> {
        let len = usize::from(u16::from_le_bytes([*b.first()?, *b.get(1)?]));
        let s = std::str::from_utf8(b.get(2..2 + len)?).ok()?;
        Some((s.to_owned(), 2 + len))
    };
    let (a, used) = take(bytes)?;
    let (b, used2) = take(&bytes[used..])?;
    (used + used2 == bytes.len()).then_some((a, b))
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A stolen-IMEI index directory, opened.
#[derive(Debug)]
pub struct StolenIndex {
    dir: PathBuf,
    mode: LoadMode,
    base: Option<TableFile>,
    overlay: Overlay,
    held: Held,
    count: u64,
    /// (base, overlay) file stamps when last read or written by this handle.
    stamps: (Stamp, Stamp),
    /// Merge the overlay into a new base when it holds more than this many keys, or a 16th of
    /// the index if that is more (so a compaction, which rewrites the base, is amortised).
    pub compact_min: usize,
}

impl StolenIndex {
    /// Open the index in `dir` (an absent directory or base is the empty index at version 0).
    pub fn open(dir: &Path, mode: LoadMode) -> Result<Self, IndexError> {
        let base_path = dir.join(BASE_FILE);
        let base = match TableFile::open(&base_path, mode) {
            Ok(t) => Some(t),
            Err(IndexError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if let Some(b) = &base {
            if b.header.kind != KIND_BASE {
                return Err(IndexError::Corrupt {
                    path: base_path,
                    why: "base file holds an overlay".into(),
                });
            }
        }
        let (base_version, base_hash, base_total) =
            base.as_ref().map_or((0, StateHash::EMPTY, 0), |b| {
                (b.header.version, b.header.hash, b.header.total)
            });
        let mut index = Self {
            dir: dir.to_owned(),
            mode,
            base,
            overlay: Overlay::default(),
            held: Held {
                version: base_version,
                hash: base_hash,
            },
            count: base_total,
            stamps: (None, None),
            compact_min: 1 << 16,
        };
        let overlay_path = dir.join(OVERLAY_FILE);
        match TableFile::open(&overlay_path, LoadMode::File) {
            Ok(o) if o.header.kind == KIND_OVERLAY && o.header.base_version == base_version => {
                index.overlay = Overlay::from_raw(&o.read_raw()?, &overlay_path)?;
                index.held = Held {
                    version: o.header.version,
                    hash: o.header.hash,
                };
                index.count = o.header.total;
            }
            Ok(_) => {
                // Left behind by a compaction or snapshot that renamed the new base and then
                // crashed before removing it: the base already holds its changes.
                tracing::info!(path = %overlay_path.display(), "removing an overlay of an older base");
                fs::remove_file(&overlay_path).map_err(io_at(&overlay_path))?;
            }
            Err(IndexError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        index.stamp();
        Ok(index)
    }

    fn stamp(&mut self) {
        self.stamps = (
            file_stamp(&self.dir.join(BASE_FILE)),
            file_stamp(&self.dir.join(OVERLAY_FILE)),
        );
    }

    /// The version and state hash held.
    pub fn held(&self) -> Held {
        self.held
    }

    /// Number of stolen IMEIs.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether no IMEI is listed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Look up an IMEI body (14 digits, see `jachai_protocol::imei::body_of`).
    pub fn lookup(&self, body: u64) -> Result<Option<Hit>, IndexError> {
        if let Some(entry) = self.overlay.get(body) {
            return Ok(entry.map(|p| Hit {
                reported_at: p.0.clone(),
                theft_location: p.1.clone(),
            }));
        }
        let Some(base) = &self.base else {
            return Ok(None);
        };
        match base.find(body)? {
            None => Ok(None),
            Some(pos) => Ok(base.entry(pos)?.map(|(reported_at, theft_location)| Hit {
                reported_at,
                theft_location,
            })),
        }
    }

    /// Look up a 15-digit IMEI (ASCII, Luhn-checked).
    pub fn lookup_imei(&self, imei: &str) -> Result<Option<Hit>, IndexError> {
        self.lookup(jachai_protocol::imei::body_of(imei)?)
    }

    /// Apply a verified delta: the chain rules are checked, the new state's hash must be the
    /// delta's, and only then is the overlay (or a compacted base) written. Removals apply before
    /// additions. On any error nothing changed.
    pub fn apply_delta(&mut self, delta: &StolenDelta) -> Result<(), IndexError> {
        check_delta(&self.held, delta)?;
        let mut changes: BTreeMap<u64, Option<Pair>> = BTreeMap::new();
        let mut hash = self.held.hash;
        let mut count = self.count;
        for imei in &delta.removed {
            let body = jachai_protocol::imei::body_of(imei)?;
            if let Some(old) = self.current(&changes, body)? {
                hash.remove(&entry_digest(body, &old.0, &old.1));
                count -= 1;
                changes.insert(body, None);
            }
        }
        for e in &delta.added {
            let body = e.validate()?;
            if let Some(old) = self.current(&changes, body)? {
                hash.remove(&entry_digest(body, &old.0, &old.1));
                count -= 1;
            }
            hash.add(&entry_digest(body, &e.reported_at, &e.theft_location));
            count += 1;
            changes.insert(
                body,
                Some(Arc::new((e.reported_at.clone(), e.theft_location.clone()))),
            );
        }
        check_result(&delta.hash, hash)?;
        // Give the changes pair ids in the overlay's table (new pairs after the old ones), then
        // write the merged overlay; memory changes only after the file is in place.
        let mut new_pairs: Vec<Pair> = Vec::new();
        let mut new_ids: HashMap<Pair, u32> = HashMap::new();
        let mut resolved: Vec<(u64, u32)> = Vec::with_capacity(changes.len());
        for (&k, v) in &changes {
            let meta = match v {
                None => TOMBSTONE,
                Some(p) => match self.overlay.ids.get(p).or_else(|| new_ids.get(p)) {
                    Some(&id) => id,
                    None => {
                        let id = u32::try_from(self.overlay.pairs.len() + new_pairs.len())
                            .unwrap_or(TOMBSTONE);
                        new_pairs.push(p.clone());
                        new_ids.insert(p.clone(), id);
                        id
                    }
                },
            };
            resolved.push((k, meta));
        }
        let merged = self.overlay.merged_raw(&resolved, &new_pairs);
        let held = Held {
            version: delta.version,
            hash,
        };
        let threshold = self
            .compact_min
            .max(usize::try_from(count / 16).unwrap_or(usize::MAX));
        if merged.lows.len() > threshold {
            self.compact(&merged, held, count)
        } else {
            let base_version = self.base.as_ref().map_or(0, |b| b.header.version);
            let path = self.dir_ready()?.join(OVERLAY_FILE);
            write_raw(
                &path,
                KIND_OVERLAY,
                held.version,
                base_version,
                held.hash,
                count,
                &merged,
            )?;
            self.overlay.pairs.extend(new_pairs);
            self.overlay.ids.extend(new_ids);
            self.overlay.entries.extend(resolved);
            self.held = held;
            self.count = count;
            self.stamp();
            Ok(())
        }
    }

    fn current(
        &self,
        changes: &BTreeMap<u64, Option<Pair>>,
        body: u64,
    ) -> Result<Option<(String, String)>, IndexError> {
        if let Some(c) = changes.get(&body) {
            return Ok(c.as_deref().cloned());
        }
        Ok(self
            .lookup(body)?
            .map(|h| (h.reported_at, h.theft_location)))
    }

    fn dir_ready(&self) -> Result<&Path, IndexError> {
        fs::create_dir_all(&self.dir).map_err(io_at(&self.dir))?;
        Ok(&self.dir)
    }

    /// Merge the (merged) overlay's arrays into a new base at `held`, array to array: the
    /// base's pairs are kept as bytes and the overlay's referenced pairs appended, so nothing of
    /// the base is decoded.
    fn compact(&mut self, overlay: &Raw, held: Held, count: u64) -> Result<(), IndexError> {
        let base = match &self.base {
            Some(b) => b.read_raw()?,
            None => Raw::empty(),
        };
        let mut out = Raw {
            offsets: vec![0; BUCKETS + 1],
            lows: Vec::with_capacity(base.lows.len() + overlay.lows.len()),
            metas: Vec::with_capacity(base.lows.len() + overlay.lows.len()),
            pair_offsets: base.pair_offsets.clone(),
            pair_bytes: base.pair_bytes.clone(),
        };
        // Overlay pair ids → ids in the new base (appended on first use); tombstones → `None`.
        let mut remap: Vec<Option<u32>> = vec![None; overlay.pair_offsets.len().saturating_sub(1)];
        let mut changes: Vec<(u64, Option<u32>)> = Vec::with_capacity(overlay.lows.len());
        overlay.for_each(|k, meta| {
            let id = (meta != TOMBSTONE).then(|| {
                let slot = to_usize(u64::from(meta));
                match remap.get(slot).copied().flatten() {
                    Some(id) => id,
                    None => {
                        let (a, b) = (overlay.pair_offsets[slot], overlay.pair_offsets[slot + 1]);
                        let id = out.add_pair_bytes(&overlay.pair_bytes[a as usize..b as usize]);
                        if let Some(r) = remap.get_mut(slot) {
                            *r = Some(id);
                        }
                        id
                    }
                }
            });
            changes.push((k, id));
        });
        let mut over = changes.iter().peekable();
        base.for_each(|key, meta| {
            while let Some(&&(k, id)) = over.peek() {
                if k >= key {
                    break;
                }
                if let Some(id) = id {
                    out.push(k, id);
                }
                over.next();
            }
            match over.peek() {
                Some(&&(k, id)) if k == key => {
                    if let Some(id) = id {
                        out.push(k, id);
                    }
                    over.next();
                }
                _ => out.push(key, meta),
            }
        });
        for &(k, id) in over {
            if let Some(id) = id {
                out.push(k, id);
            }
        }
        drop(base);
        out.finish_offsets();
        let dir = self.dir_ready()?.to_owned();
        write_raw(
            &dir.join(BASE_FILE),
            KIND_BASE,
            held.version,
            held.version,
            held.hash,
            count,
            &out,
        )?;
        drop(out);
        self.after_new_base(&dir, held, count)
    }

    /// A new base was renamed into place: drop the overlay and reopen.
    fn after_new_base(&mut self, dir: &Path, held: Held, count: u64) -> Result<(), IndexError> {
        let overlay_path = dir.join(OVERLAY_FILE);
        match fs::remove_file(&overlay_path) {
            Ok(()) => fsutil::sync_dir(dir).map_err(io_at(dir))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_at(&overlay_path)(e)),
        }
        self.base = Some(TableFile::open(&dir.join(BASE_FILE), self.mode)?);
        self.overlay = Overlay::default();
        self.held = held;
        self.count = count;
        self.stamp();
        Ok(())
    }

    /// Replace the whole index with a verified snapshot at `version` whose state hash must be
    /// `hash_hex`. Refused (nothing changed) for an older version, a bad entry, a repeated IMEI or
    /// a hash mismatch.
    pub fn install_snapshot(
        &mut self,
        version: u64,
        hash_hex: &str,
        entries: impl IntoIterator<Item = StolenEntry>,
    ) -> Result<(), IndexError> {
        if version <= self.held.version {
            return Err(ProtocolError::Rollback {
                held: self.held.version,
                got: version,
            }
            .into());
        }
        let mut snapshot = SnapshotBuilder::new();
        for e in entries {
            snapshot.add(&e)?;
        }
        self.install_snapshot_from(version, hash_hex, snapshot)
    }

    /// Replace the whole index with the entries gathered in `snapshot` (see [`Self::install_snapshot`]).
    pub fn install_snapshot_from(
        &mut self,
        version: u64,
        hash_hex: &str,
        snapshot: SnapshotBuilder,
    ) -> Result<(), IndexError> {
        if version <= self.held.version {
            return Err(ProtocolError::Rollback {
                held: self.held.version,
                got: version,
            }
            .into());
        }
        let SnapshotBuilder {
            mut keys,
            pairs,
            hash,
            ..
        } = snapshot;
        keys.sort_unstable_by_key(|(k, _)| *k);
        if let Some(w) = keys.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ProtocolError::Malformed(format!(
                "snapshot lists IMEI body {} twice",
                w[0].0
            ))
            .into());
        }
        check_result(hash_hex, hash)?;
        let mut raw = Raw::empty();
        for p in &pairs {
            raw.add_pair(p);
        }
        drop(pairs);
        for &(k, id) in &keys {
            raw.push(k, id);
        }
        let count = keys.len() as u64;
        drop(keys);
        raw.finish_offsets();
        let dir = self.dir_ready()?.to_owned();
        let held = Held { version, hash };
        write_raw(
            &dir.join(BASE_FILE),
            KIND_BASE,
            version,
            version,
            hash,
            count,
            &raw,
        )?;
        drop(raw);
        self.after_new_base(&dir, held, count)
    }

    /// Whether the files on disk changed since this index was opened or last written by it
    /// (another process, the sync daemon, applied a delta): a long-running reader reopens then.
    pub fn is_stale(&self) -> bool {
        file_stamp(&self.dir.join(BASE_FILE)) != self.stamps.0
            || file_stamp(&self.dir.join(OVERLAY_FILE)) != self.stamps.1
    }
}

/// Gathers a snapshot's entries compactly (12 bytes each plus shared date/location pairs) as
/// they arrive, part by part, checking each and summing the state hash.
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    keys: Vec<(u64, u32)>,
    pairs: Vec<Pair>,
    ids: HashMap<Pair, u32>,
    hash: StateHash,
}

impl SnapshotBuilder {
    /// Nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one entry (a bad IMEI or an over-long text is refused).
    pub fn add(&mut self, e: &StolenEntry) -> Result<(), IndexError> {
        let body = e.validate()?;
        self.hash
            .add(&entry_digest(body, &e.reported_at, &e.theft_location));
        let pair = Arc::new((e.reported_at.clone(), e.theft_location.clone()));
        let next = u32::try_from(self.pairs.len()).unwrap_or(TOMBSTONE);
        let id = *self.ids.entry(pair.clone()).or_insert(next);
        if id == next {
            self.pairs.push(pair);
        }
        self.keys.push((body, id));
        Ok(())
    }

    /// Entries gathered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether none were gathered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

type Stamp = Option<(u64, std::time::SystemTime, u64)>;

fn file_stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt as _;
    fs::metadata(path).ok().map(|m| {
        (
            m.ino(),
            m.modified().unwrap_or(std::time::UNIX_EPOCH),
            m.len(),
        )
    })
}

/// Builds a base file from keys in ascending order without holding entries as strings, for
/// large indexes (benchmarks, snapshot tooling). The state hash is computed on the way.
#[derive(Debug, Default)]
pub struct BaseBuilder {
    keys: Vec<u64>,
    pairs: Vec<Pair>,
    pair_ids: HashMap<Pair, usize>,
    ids: Vec<u32>,
    hash: StateHash,
}

impl BaseBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an IMEI body (strictly above the previous one) with its report.
    pub fn push(
        &mut self,
        body: u64,
        reported_at: &str,
        theft_location: &str,
    ) -> Result<(), IndexError> {
        if body >= BODY_LIMIT || self.keys.last().is_some_and(|&l| l >= body) {
            return Err(ProtocolError::Malformed(format!("keys must ascend (at {body})")).into());
        }
        self.hash
            .add(&entry_digest(body, reported_at, theft_location));
        let pair = Arc::new((reported_at.to_owned(), theft_location.to_owned()));
        let next = self.pairs.len();
        let id = *self.pair_ids.entry(pair.clone()).or_insert(next);
        if id == next {
            self.pairs.push(pair);
        }
        self.keys.push(body);
        self.ids.push(u32::try_from(id).unwrap_or(TOMBSTONE));
        Ok(())
    }

    /// The state hash so far.
    pub fn hash(&self) -> StateHash {
        self.hash
    }

    /// Write `dir/base.idx` at `version` (removing any overlay).
    pub fn write(self, dir: &Path, version: u64) -> Result<Held, IndexError> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let held = Held {
            version,
            hash: self.hash,
        };
        let mut raw = Raw::empty();
        for p in &self.pairs {
            raw.add_pair(p);
        }
        for (&k, &id) in self.keys.iter().zip(&self.ids) {
            raw.push(k, id);
        }
        raw.finish_offsets();
        write_raw(
            &dir.join(BASE_FILE),
            KIND_BASE,
            version,
            version,
            self.hash,
            self.keys.len() as u64,
            &raw,
        )?;
        match fs::remove_file(dir.join(OVERLAY_FILE)) {
            Ok(()) => fsutil::sync_dir(dir).map_err(io_at(dir))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_at(dir)(e)),
        }
        Ok(held)
    }
}
