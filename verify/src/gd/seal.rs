//! (being written; see gd/mod.rs for this module's place in the flow)
