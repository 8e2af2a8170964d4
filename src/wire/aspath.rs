//! AS_PATH values (RFC 4271 §4.3, RFC 5065 confederation segments, RFC 6793 4-octet ASNs).

use std::fmt;

/// RFC 6793 §9: the 2-octet placeholder for an ASN that does not fit.
pub const AS_TRANS: u32 = 23456;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentType {
    Set,
    Sequence,
    ConfedSequence,
    ConfedSet,
}

impl SegmentType {
    pub fn from_u8(v: u8) -> Option<SegmentType> {
        match v {
            1 => Some(SegmentType::Set),
            2 => Some(SegmentType::Sequence),
            3 => Some(SegmentType::ConfedSequence),
            4 => Some(SegmentType::ConfedSet),
            _ => None,
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            SegmentType::Set => 1,
            SegmentType::Sequence => 2,
            SegmentType::ConfedSequence => 3,
            SegmentType::ConfedSet => 4,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsSegment {
    pub kind: SegmentType,
    pub asns: Vec<u32>,
}

/// A whole AS path: a list of segments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// A path that is one AS_SEQUENCE (empty when `asns` is empty).
    pub fn sequence(asns: Vec<u32>) -> AsPath {
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![AsSegment {
                kind: SegmentType::Sequence,
                asns,
            }],
        }
    }

    pub fn has_four_octet_asn(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.asns.iter().any(|&a| a > u16::MAX as u32))
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }
}

impl AsPath {
    /// The number of ASNs for path length purposes (RFC 4271 §9.1.2.2 a, RFC 5065 §5.3):
    /// an AS_SET counts one, confederation segments count nothing.
    pub fn path_length(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentType::Sequence => s.asns.len(),
                SegmentType::Set => 1,
                SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
            })
            .sum()
    }

    /// RFC 6793 §4.2.3: the path as a 4-octet speaker sees it, from the AS_PATH and AS4_PATH
    /// of an UPDATE that crossed 2-octet speakers. When AS4_PATH is longer than AS_PATH it is
    /// ignored; otherwise the leading ASNs AS_PATH has in excess are kept before AS4_PATH.
    pub fn merge_as4(as_path: &AsPath, as4_path: &AsPath) -> AsPath {
        let (len, len4) = (as_path.path_length(), as4_path.path_length());
        if len < len4 {
            return as_path.clone();
        }
        let mut keep = len - len4;
        let mut segments = Vec::new();
        for seg in &as_path.segments {
            if keep == 0 {
                break;
            }
            match seg.kind {
                SegmentType::Sequence => {
                    let n = keep.min(seg.asns.len());
                    segments.push(AsSegment {
                        kind: seg.kind,
                        asns: seg.asns[..n].to_vec(),
                    });
                    keep -= n;
                }
                SegmentType::Set => {
                    segments.push(seg.clone());
                    keep -= 1;
                }
                SegmentType::ConfedSequence | SegmentType::ConfedSet => segments.push(seg.clone()),
            }
        }
        segments.extend(as4_path.segments.iter().cloned());
        // Adjacent sequences join into one segment.
        let mut merged: Vec<AsSegment> = Vec::new();
        for seg in segments {
            match merged.last_mut() {
                Some(last)
                    if last.kind == SegmentType::Sequence && seg.kind == SegmentType::Sequence =>
                {
                    last.asns.extend(seg.asns)
                }
                _ => merged.push(seg),
            }
        }
        AsPath { segments: merged }
    }
}

impl fmt::Display for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.segments {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            let (open, close) = match seg.kind {
                SegmentType::Sequence => ("", ""),
                SegmentType::Set => ("{", "}"),
                SegmentType::ConfedSequence => ("(", ")"),
                SegmentType::ConfedSet => ("[", "]"),
            };
            f.write_str(open)?;
            for (i, a) in seg.asns.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as4_path_replaces_the_as_trans_tail_and_keeps_the_leading_2_octet_asns() {
        // 65010 (a 2-octet speaker that prepended) then AS_TRANS for 4200000001, 65000.
        let as_path = AsPath::sequence(vec![65010, AS_TRANS, 65000]);
        let as4 = AsPath::sequence(vec![4_200_000_001, 65000]);
        assert_eq!(
            AsPath::merge_as4(&as_path, &as4),
            AsPath::sequence(vec![65010, 4_200_000_001, 65000])
        );
        // An AS4_PATH longer than AS_PATH is ignored (RFC 6793 §4.2.3).
        let longer = AsPath::sequence(vec![1, 2, 3, 4]);
        assert_eq!(AsPath::merge_as4(&as_path, &longer), as_path);
        // A set counts as one.
        let with_set = AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![65010],
                },
                AsSegment {
                    kind: SegmentType::Set,
                    asns: vec![AS_TRANS, 65001],
                },
            ],
        };
        let as4 = AsPath {
            segments: vec![AsSegment {
                kind: SegmentType::Set,
                asns: vec![4_200_000_002, 65001],
            }],
        };
        assert_eq!(AsPath::merge_as4(&with_set, &as4).path_length(), 2);
    }
}
