//! MICC-F220 copy-move benchmark (filled in with the copy-move stage).
fn main() {}
