//! Resumable blob (image) transfer on `up/blob`.
//!
//! A blob goes as `blob_init` (JSON), its chunks, then `blob_finish` (JSON). Chunks are raw bytes
//! in a small binary frame (no base64: a quarter less airtime and no encoding work on the Pi):
//!
//! ```text
//! offset  size  field
//! 0       4     magic "JCH1" (the 1 is the frame version)
//! 4       32    SHA-256 of the whole blob (raw)
//! 36      4     chunk index, u32 big-endian
//! 40      4     chunk count, u32 big-endian
//! 44      ≤64Ki chunk bytes
//! ```
//!
//! A JSON message starts with `{`, a frame with `J`, so one topic carries both. The cloud answers
//! every `blob_init` and `blob_finish` with a [`crate::BlobAck`] saying where it stands (first chunk
//! it lacks, or `complete`) and may ack chunks as they arrive. A kiosk streams a new blob at once;
//! a transfer that started before (a restart, a reconnect) resumes from the last acked chunk, or,
//! when none was acked, from the answer to its init.

use serde::{Deserialize, Serialize};

use crate::ProtocolError;

/// Largest chunk payload.
pub const MAX_CHUNK: usize = 64 * 1024;
/// Bytes before a chunk's payload.
pub const CHUNK_HEADER: usize = 44;
const MAGIC: &[u8; 3] = b"JCH";
const FRAME_VERSION: u8 = b'1';

/// Number of chunks of `MAX_CHUNK` bytes for a blob of `size` bytes (an empty blob has one, empty).
pub fn chunk_count(size: u64) -> u32 {
    let n = size.div_ceil(MAX_CHUNK as u64).max(1);
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Start of a blob transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobInit {
    /// SHA-256 of the blob, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Role (see [`crate::envelope::BlobRef::role`]).
    pub role: String,
    /// Outbox seq of the case the blob belongs to.
    pub case_seq: u64,
    /// Number of chunks ([`chunk_count`]).
    pub chunks: u32,
}

/// End of a blob transfer: every chunk was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobFinish {
    /// SHA-256 of the blob, hex.
    pub sha256: String,
    /// Number of chunks sent.
    pub chunks: u32,
}

/// The JSON messages of `up/blob`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlobJson {
    /// Start.
    BlobInit(BlobInit),
    /// End.
    BlobFinish(BlobFinish),
}

/// One chunk of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobChunk {
    /// SHA-256 of the whole blob.
    pub sha256: [u8; 32],
    /// Index from 0.
    pub index: u32,
    /// Number of chunks of the blob.
    pub count: u32,
    /// The bytes, at most [`MAX_CHUNK`].
    pub data: Vec<u8>,
}

impl BlobChunk {
    /// The binary frame.
    pub fn encode(&self) -> Vec<u8> {
        encode_chunk(&self.sha256, self.index, self.count, &self.data)
    }
}

/// Frame a chunk without copying it into a [`BlobChunk`] first. `data` longer than
/// [`MAX_CHUNK`] is the caller's bug; the receiver refuses such a frame.
pub fn encode_chunk(sha256: &[u8; 32], index: u32, count: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CHUNK_HEADER + data.len());
    out.extend_from_slice(MAGIC);
    out.push(FRAME_VERSION);
    out.extend_from_slice(sha256);
    out.extend_from_slice(&index.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// Anything on `up/blob`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobMsg {
    /// JSON init or finish.
    Json(BlobJson),
    /// A binary chunk.
    Chunk(BlobChunk),
}

/// Decode an `up/blob` payload.
pub fn decode(payload: &[u8]) -> Result<BlobMsg, ProtocolError> {
    match payload.first() {
        Some(b'{') => crate::envelope::decode(payload).map(BlobMsg::Json),
        Some(_) if payload.starts_with(MAGIC) => decode_chunk(payload).map(BlobMsg::Chunk),
        _ => Err(ProtocolError::malformed("not a blob message")),
    }
}

fn decode_chunk(frame: &[u8]) -> Result<BlobChunk, ProtocolError> {
    if frame.len() < CHUNK_HEADER {
        if frame.len() > 3 && frame[3] != FRAME_VERSION {
            return Err(ProtocolError::UnsupportedVersion(u64::from(frame[3])));
        }
        return Err(ProtocolError::malformed(
            "blob chunk frame shorter than its header",
        ));
    }
    if frame[3] != FRAME_VERSION {
        let v = frame[3];
        let v = if v.is_ascii_digit() { v - b'0' } else { v };
        return Err(ProtocolError::UnsupportedVersion(u64::from(v)));
    }
    let field = |at: usize| -> [u8; 4] { [frame[at], frame[at + 1], frame[at + 2], frame[at + 3]] };
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(&frame[4..36]);
    let index = u32::from_be_bytes(field(36));
    let count = u32::from_be_bytes(field(40));
    let data = &frame[CHUNK_HEADER..];
    if data.len() > MAX_CHUNK {
        return Err(ProtocolError::malformed(format_args!(
            "blob chunk of {} bytes, more than {MAX_CHUNK}",
            data.len()
        )));
    }
    if count == 0 || index >= count {
        return Err(ProtocolError::malformed(format_args!(
            "blob chunk index {index} of {count}"
        )));
    }
    Ok(BlobChunk {
        sha256,
        index,
        count,
        data: data.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_counts() {
        assert_eq!(chunk_count(0), 1);
        assert_eq!(chunk_count(1), 1);
        assert_eq!(chunk_count(65536), 1);
        assert_eq!(chunk_count(65537), 2);
        assert_eq!(chunk_count(200_000), 4);
    }

    #[test]
    fn bad_frames() {
        let good = encode_chunk(&[7; 32], 1, 3, b"abc");
        assert!(matches!(decode(&good), Ok(BlobMsg::Chunk(c)) if c.index == 1 && c.data == b"abc"));
        let check = |frame: &[u8], code: &str| {
            let err = decode(frame).expect_err("refused");
            assert_eq!(err.code(), code, "{frame:?}");
        };
        check(&good[..20], "malformed");
        check(b"", "malformed");
        check(b"XCH1", "malformed");
        let mut v2 = good.clone();
        v2[3] = b'2';
        check(&v2, "unsupported_version");
        check(&encode_chunk(&[7; 32], 3, 3, b"abc"), "malformed");
        check(&encode_chunk(&[7; 32], 0, 0, b""), "malformed");
        check(
            &encode_chunk(&[7; 32], 0, 1, &vec![0; MAX_CHUNK + 1]),
            "malformed",
        );
        assert!(decode(&encode_chunk(&[7; 32], 0, 1, &vec![0; MAX_CHUNK])).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn chunk_round_trip(sha in proptest::array::uniform32(0u8..), index in 0u32..1000,
                            extra in 1u32..1000, data in proptest::collection::vec(0u8.., 0..2048)) {
            let chunk = BlobChunk { sha256: sha, index, count: index + extra, data };
            proptest::prop_assert_eq!(decode(&chunk.encode()), Ok(BlobMsg::Chunk(chunk)));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(0u8.., 0..200)) {
            let _ = decode(&bytes);
        }
    }
}
