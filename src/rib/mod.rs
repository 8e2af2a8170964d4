//! Routes to announce: attribute sets, per-neighbor route sets, diffs and UPDATE packing.

pub mod attributes;
