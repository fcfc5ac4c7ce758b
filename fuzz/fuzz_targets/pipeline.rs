//! Fuzz target: the whole pipeline (every stage, double-JPEG's own marker walk included) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify::intake::Limits;
use verify::{Config, Request};

fuzz_target!(|bytes: &[u8]| {
    let config = Config {
        limits: Limits {
            max_bytes: 1 << 20,
            max_pixels: 1_000_000,
            max_side: 2048,
        },
        ..Config::default()
    };
    let request = Request {
        annotate: true,
        now_unix: Some(1_790_000_000),
        ..Request::default()
    };
    match verify::verify(bytes, &request, &config, &mut ()) {
        Ok(report) => {
            assert!(report.risk <= 100);
            // A stage that panicked shows up as `stage_failed`: that is a bug the fuzzer must report.
            assert!(
                !report.findings.iter().any(|f| f.code == "stage_failed"),
                "{:?}",
                report.findings
            );
        }
        Err(e) => assert!(!e.code().is_empty()),
    }
});
