//! JPEG marker walk for the double-JPEG stage: quantisation tables, frame and first scan,
//! and the IJG quality that best explains a table.

use crate::jpeg::{self, Segment};

/// Natural (row-major) index of each zig-zag position.
pub(crate) const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The IJG (Annex K) luminance table, natural order.
const STD_LUMA: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// One frame component from the SOF marker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Component {
    pub h: u8,
    pub v: u8,
    /// Quantisation table slot (0–3).
    pub tq: u8,
}

/// What the markers before the first scan say.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// The SOF marker byte (0xC0 baseline, 0xC1 extended, 0xC2 progressive …).
    pub sof: u8,
    pub width: u32,
    pub height: u32,
    pub components: Vec<Component>,
    /// Quantisation tables by slot, natural order.
    pub tables: [Option<[u16; 64]>; 4],
    /// Number of components in the first scan.
    pub scan_components: usize,
}

impl Header {
    /// The luma (first component's) quantisation table.
    pub fn luma_table(&self) -> Option<&[u16; 64]> {
        let c = self.components.first()?;
        self.tables.get(usize::from(c.tq))?.as_ref()
    }
}

/// Why the markers could not be read far enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderError {
    NotJpeg,
    /// Readable as JPEG, but not far enough for this stage; the reason is for the stage record.
    Unusable(&'static str),
}

/// Walk the markers from SOI to the first SOS (the walk itself is shared with intake).
pub(crate) fn parse(bytes: &[u8]) -> Result<Header, HeaderError> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err(HeaderError::NotJpeg);
    }
    let truncated = HeaderError::Unusable("the JPEG headers are truncated or damaged");
    let mut tables: [Option<[u16; 64]>; 4] = [None; 4];
    let mut frame: Option<(u8, u32, u32, Vec<Component>)> = None;
    for seg in jpeg::segments(bytes) {
        let Segment { marker, data: seg } = seg.map_err(|_| truncated)?;
        match marker {
            0xDB => read_dqt(seg, &mut tables).ok_or(truncated)?,
            0xC4 if !huffman_symbols_valid(seg).ok_or(truncated)? => {
                return Err(HeaderError::Unusable(
                    "the JPEG's Huffman tables are damaged",
                ));
            }
            m if jpeg::is_sof(m) => {
                frame = Some(read_sof(marker, seg).ok_or(truncated)?);
            }
            0xDA => {
                let (sof, width, height, components) =
                    frame.ok_or(HeaderError::Unusable("the JPEG has no frame header"))?;
                let scan_components = usize::from(*seg.first().ok_or(truncated)?);
                return Ok(Header {
                    sof,
                    width,
                    height,
                    components,
                    tables,
                    scan_components,
                });
            }
            _ => {}
        }
    }
    Err(HeaderError::Unusable("the JPEG ends before any image data"))
}

fn read_dqt(mut seg: &[u8], tables: &mut [Option<[u16; 64]>; 4]) -> Option<()> {
    while let Some((&pq_tq, rest)) = seg.split_first() {
        let wide = pq_tq >> 4 != 0;
        let slot = usize::from(pq_tq & 0x0F);
        let size = if wide { 128 } else { 64 };
        let body = rest.get(..size)?;
        let mut table = [0u16; 64];
        for (k, &nat) in ZIGZAG.iter().enumerate() {
            table[nat] = if wide {
                u16::from_be_bytes([body[2 * k], body[2 * k + 1]])
            } else {
                u16::from(body[k])
            };
        }
        if let Some(t) = tables.get_mut(slot) {
            *t = Some(table);
        }
        seg = &rest[size..];
    }
    Some(())
}

/// Whether every Huffman symbol is a legal baseline one: DC categories up to 11, AC
/// categories up to 10. The coefficient reader trusts them, so broken ones are refused here.
fn huffman_symbols_valid(mut seg: &[u8]) -> Option<bool> {
    while let Some((&tc_th, rest)) = seg.split_first() {
        let counts = rest.get(..16)?;
        let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = rest.get(16..16 + n)?;
        let ok = match tc_th >> 4 {
            0 => symbols.iter().all(|&s| s <= 11),
            1 => symbols.iter().all(|&s| s & 0x0F <= 10),
            _ => false,
        };
        if !ok {
            return Some(false);
        }
        seg = &rest[16 + n..];
    }
    Some(true)
}

fn read_sof(marker: u8, seg: &[u8]) -> Option<(u8, u32, u32, Vec<Component>)> {
    let height = u32::from(jpeg::be16(seg, 1)?);
    let width = u32::from(jpeg::be16(seg, 3)?);
    let n = usize::from(*seg.get(5)?);
    let mut components = Vec::with_capacity(n);
    for i in 0..n {
        let c = seg.get(6 + 3 * i..9 + 3 * i)?;
        components.push(Component {
            h: c[1] >> 4,
            v: c[1] & 0x0F,
            tq: c[2],
        });
    }
    Some((marker, width, height, components))
}

/// The IJG table for `quality` (1–100), natural order, limited to baseline's 1–255.
pub(crate) fn ijg_table(quality: u32) -> [u16; 64] {
    let q = quality.clamp(1, 100);
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    let mut out = [0u16; 64];
    for (o, &s) in out.iter_mut().zip(STD_LUMA.iter()) {
        let v = (u32::from(s) * scale + 50) / 100;
        *o = u16::try_from(v.clamp(1, 255)).unwrap_or(255);
    }
    out
}

/// The IJG quality whose luma table is closest to `table`, and whether it matches exactly
/// (cameras and some editors use their own tables; then the quality is only an estimate).
pub(crate) fn estimate_quality(table: &[u16; 64]) -> (u32, bool) {
    let mut best = (50, u32::MAX);
    for q in 1..=100 {
        let err: u32 = ijg_table(q)
            .iter()
            .zip(table.iter())
            .map(|(&a, &b)| u32::from(a.abs_diff(b)))
            .sum();
        if err < best.1 {
            best = (q, err);
        }
    }
    (best.0, best.1 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ijg_tables_round_trip_through_the_estimate() {
        for q in [10, 50, 75, 90, 95, 100] {
            let (est, exact) = estimate_quality(&ijg_table(q));
            assert!(exact, "quality {q}");
            // Several qualities can share one table near 100.
            assert_eq!(ijg_table(est), ijg_table(q));
        }
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        assert_eq!(parse(b"").err(), Some(HeaderError::NotJpeg));
        assert_eq!(parse(b"\x89PNG\r\n").err(), Some(HeaderError::NotJpeg));
        assert!(matches!(
            parse(b"\xFF\xD8\xFF\xDB\x00\x43\x00"),
            Err(HeaderError::Unusable(_))
        ));
        assert!(matches!(
            parse(b"\xFF\xD8\xFF\xFF\xFF"),
            Err(HeaderError::Unusable(_))
        ));
    }
}
