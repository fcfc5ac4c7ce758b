//! Cheques: the MICR line (E-13B), its fields and routing numbers, amounts and dates.

pub mod amount;
pub mod e13b;
pub mod fields;
pub mod micr;
pub mod routing;
