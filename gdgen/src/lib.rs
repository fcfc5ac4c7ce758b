//! Synthetic Police GD (General Diary) copies for Jachai's tests and benchmark.
//!
//! Text is shaped (HarfBuzz rules through cosmic-text/rustybuzz) and rasterised (swash) from
//! real font files installed from Debian packages, so Bengali conjuncts and vowel signs come
//! out as a printer would put them.

pub mod render;
