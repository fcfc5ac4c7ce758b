//! JPEG marker segments: the one walk from SOI to EOI that intake (completeness, dimensions) and the
//! double-JPEG stage (quantisation and Huffman tables) both read.
//!
//! Linear, allocation-free, tolerant the way decoders are (stray bytes and fill bytes between
//! segments are skipped), and precise about *why* a walk stops early.

/// One marker segment: the marker byte and its payload (without the length field).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub marker: u8,
    pub data: &'a [u8],
}

/// Why the walk could not reach the end-of-image marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WalkError {
    Truncated(&'static str),
    Corrupt(&'static str),
}

/// The big-endian `u16` at `at`, if the bytes are there.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Whether `marker` starts a frame (SOF0–SOF15, but not DHT, JPG or DAC).
pub(crate) fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// The segments of `bytes`, which must start with SOI; after each SOS the entropy-coded data is
/// skipped. Ends at EOI; an error is yielded once and ends the walk.
pub(crate) fn segments(bytes: &[u8]) -> Segments<'_> {
    Segments {
        bytes,
        pos: 2,
        in_scan: false,
        done: false,
    }
}

/// Iterator returned by [`segments`].
#[derive(Debug)]
pub(crate) struct Segments<'a> {
    bytes: &'a [u8],
    pos: usize,
    in_scan: bool,
    done: bool,
}

impl<'a> Segments<'a> {
    fn fail(&mut self, e: WalkError) -> Option<Result<Segment<'a>, WalkError>> {
        self.done = true;
        Some(Err(e))
    }

    /// Skip entropy-coded data: it runs until a marker that is neither stuffing nor RST.
    fn skip_scan(&mut self) -> Result<(), WalkError> {
        let b = self.bytes;
        loop {
            while self.pos < b.len() && b[self.pos] != 0xFF {
                self.pos += 1;
            }
            let Some(&next) = b.get(self.pos + 1) else {
                return Err(WalkError::Truncated(
                    "the JPEG image data is cut off before its end-of-image marker",
                ));
            };
            if next == 0x00 || (0xD0..=0xD7).contains(&next) || next == 0xFF {
                self.pos += if next == 0xFF { 1 } else { 2 };
            } else {
                return Ok(());
            }
        }
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<Segment<'a>, WalkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if std::mem::take(&mut self.in_scan) {
            if let Err(e) = self.skip_scan() {
                return self.fail(e);
            }
        }
        let b = self.bytes;
        loop {
            // Find the next marker prefix, then skip fill bytes.
            while self.pos < b.len() && b[self.pos] != 0xFF {
                self.pos += 1;
            }
            while self.pos < b.len() && b[self.pos] == 0xFF {
                self.pos += 1;
            }
            let Some(&marker) = b.get(self.pos) else {
                return self.fail(WalkError::Truncated(
                    "the JPEG ends before its end-of-image marker (the picture is cut off)",
                ));
            };
            self.pos += 1;
            match marker {
                0xD9 => {
                    self.done = true;
                    return None;
                }
                // Stand-alone markers carry no length.
                0x00 | 0x01 | 0xD0..=0xD8 => continue,
                _ => {}
            }
            let Some(len) = be16(b, self.pos).map(usize::from) else {
                return self.fail(WalkError::Truncated(
                    "the JPEG ends inside a segment header",
                ));
            };
            if len < 2 {
                return self.fail(WalkError::Corrupt(
                    "a JPEG segment has an impossible length",
                ));
            }
            let end = self.pos + len;
            if end > b.len() {
                return self.fail(WalkError::Truncated("the JPEG ends inside a segment"));
            }
            let data = &b[self.pos + 2..end];
            self.pos = end;
            self.in_scan = marker == 0xDA;
            return Some(Ok(Segment { marker, data }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8]) -> (Vec<u8>, Option<WalkError>) {
        let mut markers = Vec::new();
        for s in segments(bytes) {
            match s {
                Ok(s) => markers.push(s.marker),
                Err(e) => return (markers, Some(e)),
            }
        }
        (markers, None)
    }

    #[test]
    fn table() {
        // SOI, DQT(1 byte), SOS(1 byte), scan data with stuffing and RST, EOI.
        let good =
            b"\xFF\xD8\xFF\xDB\x00\x03\x07\xFF\xDA\x00\x03\x01\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xD9";
        assert_eq!(walk(good), (vec![0xDB, 0xDA], None));
        // Fill bytes and stray bytes between segments are tolerated.
        let stray = b"\xFF\xD8\x00\xFF\xFF\xDB\x00\x02\xFF\xD9";
        assert_eq!(walk(stray), (vec![0xDB], None));
        let cases: [(&[u8], WalkError); 5] = [
            (
                b"\xFF\xD8",
                WalkError::Truncated(
                    "the JPEG ends before its end-of-image marker (the picture is cut off)",
                ),
            ),
            (
                b"\xFF\xD8\xFF\xDB\x00",
                WalkError::Truncated("the JPEG ends inside a segment header"),
            ),
            (
                b"\xFF\xD8\xFF\xDB\x00\x09\x01",
                WalkError::Truncated("the JPEG ends inside a segment"),
            ),
            (
                b"\xFF\xD8\xFF\xDB\x00\x01",
                WalkError::Corrupt("a JPEG segment has an impossible length"),
            ),
            (
                b"\xFF\xD8\xFF\xDA\x00\x02\x11\x22",
                WalkError::Truncated(
                    "the JPEG image data is cut off before its end-of-image marker",
                ),
            ),
        ];
        for (bytes, e) in cases {
            assert_eq!(walk(bytes).1, Some(e), "{bytes:?}");
        }
        assert!(is_sof(0xC0) && is_sof(0xC2) && !is_sof(0xC4) && !is_sof(0xCC) && !is_sof(0xDA));
    }
}
