//! PNG text chunks (tEXt, zTXt, iTXt): keyword and text, with decompression capped.

use std::io::Read;

/// One text chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChunk {
    pub keyword: String,
    pub text: String,
}

/// Limits on the work done for PNG text.
#[derive(Debug, Clone, Copy)]
pub struct TextLimits {
    pub max_chunks: usize,
    /// Largest text kept from one chunk, after decompression.
    pub max_chunk_bytes: usize,
    /// Total decompressed bytes over all chunks.
    pub max_total_bytes: usize,
}

/// Read the text chunks of a PNG. Stops quietly at the first damaged chunk.
pub fn read(bytes: &[u8], limits: TextLimits) -> Vec<TextChunk> {
    let mut out = Vec::new();
    let mut budget = limits.max_total_bytes;
    let mut pos = 8usize;
    while out.len() < limits.max_chunks {
        let Some(head) = bytes.get(pos..pos + 8) else {
            break;
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let Ok(len) = usize::try_from(len) else {
            break;
        };
        let kind = [head[4], head[5], head[6], head[7]];
        let Some(data) = bytes.get(pos + 8..(pos + 8).saturating_add(len)) else {
            break;
        };
        pos = pos.saturating_add(12).saturating_add(len);
        if &kind == b"IEND" {
            break;
        }
        let chunk = match &kind {
            b"tEXt" => text(data, limits.max_chunk_bytes.min(budget)),
            b"zTXt" => ztxt(data, limits.max_chunk_bytes.min(budget)),
            b"iTXt" => itxt(data, limits.max_chunk_bytes.min(budget)),
            _ => None,
        };
        if let Some(c) = chunk {
            budget = budget.saturating_sub(c.text.len());
            out.push(c);
        }
    }
    out
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

fn split_keyword(data: &[u8]) -> Option<(String, &[u8])> {
    let nul = data.iter().take(80).position(|&b| b == 0)?;
    Some((latin1(&data[..nul]), &data[nul + 1..]))
}

fn text(data: &[u8], cap: usize) -> Option<TextChunk> {
    let (keyword, rest) = split_keyword(data)?;
    Some(TextChunk {
        keyword,
        text: latin1(&rest[..rest.len().min(cap)]),
    })
}

fn ztxt(data: &[u8], cap: usize) -> Option<TextChunk> {
    let (keyword, rest) = split_keyword(data)?;
    let (&method, compressed) = rest.split_first()?;
    if method != 0 {
        return None;
    }
    Some(TextChunk {
        keyword,
        text: latin1(&inflate(compressed, cap)?),
    })
}

fn itxt(data: &[u8], cap: usize) -> Option<TextChunk> {
    let (keyword, rest) = split_keyword(data)?;
    let (&flag, rest) = rest.split_first()?;
    let (_method, rest) = rest.split_first()?;
    let lang_end = rest.iter().position(|&b| b == 0)?;
    let rest = &rest[lang_end + 1..];
    let tk_end = rest.iter().position(|&b| b == 0)?;
    let body = &rest[tk_end + 1..];
    let raw = if flag == 1 {
        inflate(body, cap)?
    } else {
        body[..body.len().min(cap)].to_vec()
    };
    Some(TextChunk {
        keyword,
        text: String::from_utf8_lossy(&raw).into_owned(),
    })
}

/// zlib-inflate at most `cap` bytes; a stream that would give more is cut at `cap`.
fn inflate(compressed: &[u8], cap: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let cap = u64::try_from(cap).unwrap_or(u64::MAX);
    flate2::read::ZlibDecoder::new(compressed)
        .take(cap)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}
