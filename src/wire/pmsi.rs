//! The PMSI Tunnel attribute (type 22, RFC 6514 §5): flags, tunnel type, a 3-octet MPLS
//! label field and the tunnel identifier. EVPN inclusive multicast routes (RFC 7432 §11.2)
//! carry it with ingress replication, whose identifier is the replicating router's address;
//! with VXLAN (RFC 8365 §5.1.3) the label field holds the 24-bit VNI as is.
//!
//! Text (`decode`, logs, the configuration's words):
//! `pmsi-tunnel ( ingress-replication 192.0.2.2 label 10100 )`, with `vni N` for a label field
//! that is not an MPLS label, `leaf-info-required` for the flag, `type N id 0xHEX` for the
//! tunnel types bgpinject does not name.

use std::net::IpAddr;

use serde_json::{Value, json};

/// RFC 6514 §5: the Leaf Information Required flag.
pub const LEAF_INFO_REQUIRED: u8 = 0x01;

/// IANA "P-Multicast Service Interface Tunnel (PMSI Tunnel) Tunnel Types".
const TUNNEL_TYPES: &[(u8, &str)] = &[
    (0, "no-tunnel-info"),
    (1, "rsvp-te-p2mp"),
    (2, "mldp-p2mp"),
    (3, "pim-ssm"),
    (4, "pim-sm"),
    (5, "bidir-pim"),
    (6, "ingress-replication"),
    (7, "mldp-mp2mp"),
];
pub const INGRESS_REPLICATION: u8 = 6;
pub const NO_TUNNEL_INFO: u8 = 0;

/// The attribute's fixed part: flags, type, label (RFC 6514 §5).
const FIXED_LEN: usize = 5;

pub fn tunnel_type_by_name(name: &str) -> Option<u8> {
    TUNNEL_TYPES
        .iter()
        .find(|&&(_, n)| n == name)
        .map(|&(v, _)| v)
}

fn tunnel_type_name(t: u8) -> Option<&'static str> {
    TUNNEL_TYPES.iter().find(|&&(v, _)| v == t).map(|&(_, n)| n)
}

/// What the label field means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelField {
    /// A 20-bit MPLS label in the high bits (RFC 6514 §5, as in RFC 3107 NLRI).
    Mpls(u32),
    /// RFC 8365 §5.1.3: the 24-bit VNI.
    Vni(u32),
}

impl LabelField {
    /// The 24-bit field as sent.
    pub fn field(self) -> u32 {
        match self {
            LabelField::Mpls(l) => (l & 0xF_FFFF) << 4,
            LabelField::Vni(v) => v & 0xFF_FFFF,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PmsiTunnel {
    pub flags: u8,
    pub tunnel_type: u8,
    pub label: LabelField,
    pub identifier: Vec<u8>,
}

impl PmsiTunnel {
    /// The value octets.
    pub fn encode(&self) -> Vec<u8> {
        let field = self.label.field();
        let mut out = vec![self.flags, self.tunnel_type];
        out.extend_from_slice(&field.to_be_bytes()[1..]);
        out.extend_from_slice(&self.identifier);
        out
    }

    /// Reads a value. The octets do not say whether the label field is an MPLS label or a
    /// VNI (the route's encapsulation does): a field whose low four bits are clear reads as
    /// an MPLS label, any other as a VNI, so that the words always re-encode to the same
    /// octets.
    pub fn decode(value: &[u8]) -> Result<PmsiTunnel, String> {
        let (fixed, identifier) = value
            .split_at_checked(FIXED_LEN)
            .ok_or_else(|| format!("{} octets, at least {FIXED_LEN} needed", value.len()))?;
        let field = u32::from_be_bytes([0, fixed[2], fixed[3], fixed[4]]);
        let tunnel_type = fixed[1];
        if tunnel_type == INGRESS_REPLICATION && !matches!(identifier.len(), 4 | 16) {
            return Err(format!(
                "ingress replication identifier of {} octets, expected an IPv4 or IPv6 address",
                identifier.len()
            ));
        }
        let label = if field & 0xF == 0 {
            LabelField::Mpls(field >> 4)
        } else {
            LabelField::Vni(field)
        };
        Ok(PmsiTunnel {
            flags: fixed[0],
            tunnel_type,
            label,
            identifier: identifier.to_vec(),
        })
    }

    fn endpoint(&self) -> Option<IpAddr> {
        match self.identifier.len() {
            4 => <[u8; 4]>::try_from(self.identifier.as_slice())
                .ok()
                .map(IpAddr::from),
            16 => <[u8; 16]>::try_from(self.identifier.as_slice())
                .ok()
                .map(IpAddr::from),
            _ => None,
        }
    }

    /// The words inside `pmsi-tunnel ( ... )`.
    pub fn words(&self) -> String {
        let mut t = match (tunnel_type_name(self.tunnel_type), self.endpoint()) {
            (Some(name), Some(ip)) if self.tunnel_type == INGRESS_REPLICATION => {
                format!("{name} {ip}")
            }
            (Some(name), _) if self.identifier.is_empty() => name.to_string(),
            _ => format!("type {} id 0x{}", self.tunnel_type, hex(&self.identifier)),
        };
        match self.label {
            LabelField::Mpls(l) => t.push_str(&format!(" label {l}")),
            LabelField::Vni(v) => t.push_str(&format!(" vni {v}")),
        }
        if self.flags & LEAF_INFO_REQUIRED != 0 {
            t.push_str(" leaf-info-required");
        }
        let other = self.flags & !LEAF_INFO_REQUIRED;
        if other != 0 {
            t.push_str(&format!(" flags 0x{other:02x}"));
        }
        t
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `pmsi-tunnel ( ... )`, or `pmsi-tunnel malformed (WHY) 0x...`.
pub fn text(value: &[u8]) -> String {
    match PmsiTunnel::decode(value) {
        Ok(p) => format!("pmsi-tunnel ( {} )", p.words()),
        Err(why) => format!("pmsi-tunnel malformed ({why}) 0x{}", hex(value)),
    }
}

pub fn to_json(value: &[u8]) -> Value {
    match PmsiTunnel::decode(value) {
        Ok(p) => {
            let mut v = json!({
                "flags": p.flags,
                "tunnel-type": p.tunnel_type,
                "text": p.words(),
                "label-field": p.label.field(),
            });
            match p.label {
                LabelField::Mpls(l) => v["label"] = json!(l),
                LabelField::Vni(n) => v["vni"] = json!(n),
            }
            match p.endpoint() {
                Some(ip) => v["tunnel-id"] = json!(ip.to_string()),
                None => v["tunnel-id"] = json!(hex(&p.identifier)),
            }
            v
        }
        Err(why) => json!({"malformed": why, "hex": hex(value)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingress_replication_round_trips_with_label_or_vni() {
        let p = PmsiTunnel {
            flags: 0,
            tunnel_type: INGRESS_REPLICATION,
            label: LabelField::Mpls(10100),
            identifier: vec![192, 0, 2, 2],
        };
        // RFC 6514 §5: flags, type 6, label 10100 << 4, the address.
        assert_eq!(p.encode(), vec![0, 6, 0x02, 0x77, 0x40, 192, 0, 2, 2]);
        assert_eq!(PmsiTunnel::decode(&p.encode()), Ok(p.clone()));
        assert_eq!(
            text(&p.encode()),
            "pmsi-tunnel ( ingress-replication 192.0.2.2 label 10100 )"
        );
        let v = PmsiTunnel {
            flags: LEAF_INFO_REQUIRED,
            label: LabelField::Vni(10001),
            ..p
        };
        assert_eq!(PmsiTunnel::decode(&v.encode()), Ok(v.clone()));
        assert_eq!(
            text(&v.encode()),
            "pmsi-tunnel ( ingress-replication 192.0.2.2 vni 10001 leaf-info-required )"
        );
    }

    #[test]
    fn short_or_odd_values_are_malformed_never_a_panic() {
        let good = [0u8, 6, 0, 0, 0x10, 192, 0, 2, 2];
        for n in 0..good.len() {
            let r = PmsiTunnel::decode(&good[..n]);
            assert!(r.is_err(), "{n}");
            let _ = to_json(&good[..n]);
        }
        assert!(text(&[0, 6, 0, 0]).starts_with("pmsi-tunnel malformed"));
        assert_eq!(
            text(&[0, 0, 0, 0, 0]),
            "pmsi-tunnel ( no-tunnel-info label 0 )"
        );
        // 20,000 pseudo-random values: whatever decodes re-encodes to the same octets.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let v: Vec<u8> = (0..len)
                .map(|i| (x >> (i % 8 * 8)) as u8 ^ i as u8)
                .collect();
            let _ = (text(&v), to_json(&v));
            if let Ok(t) = PmsiTunnel::decode(&v) {
                assert_eq!(t.encode(), v);
            }
        }
    }
}
