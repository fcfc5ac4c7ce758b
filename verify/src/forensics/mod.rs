//! Pixel forensics: error level analysis, copy-move, noise inconsistency, double JPEG.

pub(crate) mod blockmap;
pub mod copy_move;
pub mod double_jpeg;
pub mod ela;
pub mod noise;
