//! Police GD (General Diary) copies: page geometry, OCR, fields, IMEI match, structure, seal,
//! duplicates, tampering over fields, and routing.
//!
//! Data flow: [`geometry`] finds the page and warps it flat → [`ocr`] finds the text lines and
//! reads them into a [`text::OcrPage`] (page coordinates) → [`fields`] parses IMEIs, GD number,
//! date, thana, district, brand/model → [`structure`] checks header, thana ↔ district
//! ([`geo`]), seal and signature ([`seal`]) → [`duplicates`] asks the caller's index →
//! [`route`] decides. Every box is mapped back to input-image coordinates for the report.

pub mod duplicates;
pub mod fields;
pub mod geo;
pub mod geometry;
pub mod ocr;
pub mod route;
pub mod seal;
pub mod structure;
pub mod tamper;
pub mod text;
