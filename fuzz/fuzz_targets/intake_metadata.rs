//! Fuzz target: intake (sniffing, limits, decoding, orientation) and metadata must never panic or run away.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify::intake::{self, Limits};
use verify::metadata::{self, MetadataConfig};

fuzz_target!(|bytes: &[u8]| {
    // Small limits keep each run cheap; the limit checks themselves are part of what is fuzzed.
    let limits = Limits {
        max_bytes: 1 << 20,
        max_pixels: 4_000_000,
        max_side: 4096,
    };
    let format = match intake::intake(bytes, &limits) {
        Ok(decoded) => {
            assert!(decoded.image.width() > 0 && decoded.image.height() > 0);
            decoded.format
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            // Metadata is read even from images that do not decode, when the container is known.
            match intake::sniff(bytes) {
                Some(f) => f,
                None => return,
            }
        }
    };
    let meta = metadata::analyze(bytes, format, &MetadataConfig::default(), 1_790_000_000);
    for f in &meta.findings {
        assert!(!f.code.is_empty() && !f.en.is_empty() && !f.bn.is_empty());
    }
});
