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

/// How a session stands to the local confederation (RFC 5065 §5), for what AS_PATH it gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConfederationRole {
    /// No confederation, or a peer in our own member AS (plain iBGP).
    #[default]
    None,
    /// A peer outside the confederation: the OPEN carries the confederation identifier, and
    /// AS_PATH loses its confederation segments (RFC 5065 §5.3).
    External,
    /// A peer in another member AS (confederation eBGP): AS_PATH gets our member AS in an
    /// AS_CONFED_SEQUENCE, and the attributes go as on iBGP (RFC 5065 §5.2, §5.3).
    Member(u32),
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

    /// The path without its AS_CONFED_SEQUENCE and AS_CONFED_SET segments (RFC 5065 §5.3).
    pub fn without_confederation(&self) -> AsPath {
        AsPath {
            segments: self
                .segments
                .iter()
                .filter(|s| !matches!(s.kind, SegmentType::ConfedSequence | SegmentType::ConfedSet))
                .cloned()
                .collect(),
        }
    }

    /// The path with `asn` prepended in an AS_CONFED_SEQUENCE (RFC 5065 §5.3 1): into the
    /// first segment when it is one, in a new first segment otherwise.
    pub fn with_confederation_member(&self, asn: u32) -> AsPath {
        let mut path = self.clone();
        match path.segments.first_mut() {
            Some(s) if s.kind == SegmentType::ConfedSequence && s.asns.len() < 255 => {
                s.asns.insert(0, asn)
            }
            _ => path.segments.insert(
                0,
                AsSegment {
                    kind: SegmentType::ConfedSequence,
                    asns: vec![asn],
                },
            ),
        }
        path
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
    fn confederation_segments_are_dropped_outside_and_prepended_to_a_member() {
        let confed = |kind, asns: Vec<u32>| AsSegment { kind, asns };
        let path = AsPath {
            segments: vec![
                confed(SegmentType::ConfedSequence, vec![65001]),
                confed(SegmentType::Sequence, vec![65000, 100]),
                confed(SegmentType::ConfedSet, vec![65002]),
            ],
        };
        assert_eq!(
            path.without_confederation(),
            AsPath::sequence(vec![65000, 100])
        );
        let member = path.with_confederation_member(65009);
        assert_eq!(
            member.segments[0],
            confed(SegmentType::ConfedSequence, vec![65009, 65001])
        );
        assert_eq!(
            AsPath::sequence(vec![100])
                .with_confederation_member(65009)
                .segments,
            vec![
                confed(SegmentType::ConfedSequence, vec![65009]),
                confed(SegmentType::Sequence, vec![100])
            ]
        );
        // A full first segment: a new one in front, never a 256th ASN.
        let full = AsPath {
            segments: vec![confed(SegmentType::ConfedSequence, vec![1; 255])],
        };
        assert_eq!(full.with_confederation_member(2).segments.len(), 2);
    }

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
