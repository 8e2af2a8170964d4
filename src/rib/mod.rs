//! Routes to announce: attribute sets, per-neighbor route sets, diffs and UPDATE packing.

pub mod attributes;
pub mod key;
pub mod other_nlri;
pub mod pack_cache;
pub mod packer;
pub mod plain_table;
pub mod route_set;
pub mod selfcheck;
