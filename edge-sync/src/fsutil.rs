//! Durable file writes: a temp file in the same directory, fsynced, renamed over the target, then
//! the directory fsynced, so after a crash the target is either the old file or the whole new one.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Prefix of temp files; anything with it left in a directory is debris from a crash.
pub const TMP_PREFIX: &str = ".tmp-";

fn tmp_path(target: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!("{TMP_PREFIX}{name}-{}-{n}", std::process::id()))
}

/// fsync a directory so a rename or unlink in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Write `target` atomically and durably with what `fill` writes.
pub fn write_atomic(
    target: &Path,
    fill: impl FnOnce(&mut io::BufWriter<&File>) -> io::Result<()>,
) -> io::Result<()> {
    write_atomic_mode(target, 0o666, fill)
}

/// [`write_atomic`] with the file created with `mode` (before the umask), so a private key is never
/// readable by others, not even for a moment.
pub fn write_atomic_mode(
    target: &Path,
    mode: u32,
    fill: impl FnOnce(&mut io::BufWriter<&File>) -> io::Result<()>,
) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = tmp_path(target);
    let result = (|| {
        // Debris of a crashed run with the same name would keep its old mode: start afresh.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        {
            let mut w = io::BufWriter::with_capacity(1 << 20, &file);
            fill(&mut w)?;
            w.flush()?;
        }
        file.sync_all()?;
        fs::rename(&tmp, target)?;
        sync_dir(target.parent().unwrap_or(Path::new(".")))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Write `bytes` to `target` atomically and durably.
#[cfg(feature = "store")]
pub fn write_bytes_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(target, |w| w.write_all(bytes))
}
