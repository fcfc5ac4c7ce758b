//! The cloud's downlink signing key: an ed25519 seed (64 hex digits) in a key file, generated on first
//! start when missing, with the public key written beside it (`<key>.pub`) for provisioning kiosks.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use jachai_protocol::sign::Signer;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing key {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("signing key {path}: {source}")]
    Bad {
        path: PathBuf,
        #[source]
        source: jachai_protocol::ProtocolError,
    },
}

/// The public key file beside a key file.
pub fn public_key_path(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

/// Loads the key at `path`, or creates it (mode 0600, written to a temp file, fsynced, renamed) and its
/// `.pub` when it does not exist. The `.pub` is rewritten on every start so it always matches.
pub fn load_or_create(path: &Path) -> Result<Signer, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let signer = match fs::read_to_string(path) {
        Ok(text) => Signer::from_hex(&text).map_err(|source| KeyError::Bad {
            path: path.to_path_buf(),
            source,
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let signer = Signer::generate();
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(io)?;
            }
            write_atomic(path, signer.seed_hex().as_bytes(), 0o600).map_err(io)?;
            tracing::info!(path = %path.display(), key_id = signer.key_id(), "generated a new downlink signing key");
            signer
        }
        Err(e) => return Err(io(e)),
    };
    let public = format!("{}\n", signer.public_hex());
    let pub_path = public_key_path(path);
    if fs::read_to_string(&pub_path).ok().as_deref() != Some(public.as_str()) {
        write_atomic(&pub_path, public.as_bytes(), 0o644).map_err(|source| KeyError::Io {
            path: pub_path,
            source,
        })?;
    }
    Ok(signer)
}

/// Writes `bytes` to `path` with `mode` through a fsynced temp file renamed over it (the folder fsynced too):
/// a key file is whole or absent, never half-written.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_loaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/signing.key");
        let a = load_or_create(&path).expect("create");
        let b = load_or_create(&path).expect("load");
        assert_eq!(a.public_hex(), b.public_hex());
        let public = fs::read_to_string(public_key_path(&path)).expect("pub");
        assert_eq!(public.trim(), a.public_hex());
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_bad_key_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("signing.key");
        fs::write(&path, "not hex").expect("write");
        let err = load_or_create(&path).expect_err("refused");
        assert!(err.to_string().contains("signing.key"), "{err}");
    }
}
