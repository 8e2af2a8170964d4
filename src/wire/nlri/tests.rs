//! Each family: bytes written by hand from the RFC or draft, decoded to the expected fields
//! and words, re-encoded byte for byte; every truncation and a few hostile values refused
//! with an error, never a panic.

use super::*;
use crate::testvec::parse_hex;

fn fam(name: &str) -> Family {
    Family::from_name(name).unwrap()
}

/// Decodes `hex` as the NLRI field of `family`, checks the text and the byte-for-byte
/// re-encoding, and that every strict prefix of the bytes is refused or decodes to fewer
/// NLRI (never panics).
fn round_trip(family: &str, hex: &str, text: &str) -> Vec<FamilyNlri> {
    let f = fam(family);
    let bytes = parse_hex(hex).unwrap();
    let list = decode(f, &bytes)
        .expect("family decoded here")
        .unwrap_or_else(|e| panic!("{e}"));
    let words: Vec<String> = list.iter().map(|n| n.to_string()).collect();
    assert_eq!(words.join("; "), text);
    let mut again = Vec::new();
    emit_all(&list, &mut again);
    assert_eq!(again, bytes, "{family}: re-encoding differs");
    for n in 0..bytes.len() {
        if let Some(Ok(fewer)) = decode(f, &bytes[..n]) {
            assert!(fewer.len() < list.len(), "{family}: prefix of {n} octets");
        }
    }
    list
}

fn error_of(family: &str, hex: &str) -> String {
    let bytes = parse_hex(hex).unwrap();
    match decode(fam(family), &bytes) {
        Some(Err(e)) => e.to_string(),
        other => panic!("{family} {hex}: expected an error, got {other:?}"),
    }
}

#[test]
fn rtc_full_wildcard_and_prefix() {
    // 96 bits, origin 65019 (0xfdfb), target:65019:100 (0002 fdfb 00000064); then the
    // wildcard (length 0); then a 64-bit prefix (origin + 4 octets of the target).
    let list = round_trip(
        "ipv4-rtc",
        "60 0000fdfb 0002fdfb00000064 00 40 0000fdfb 0002fdfb",
        "rtc origin 65019 route-target target:65019:100; rtc wildcard; \
         rtc origin 65019 route-target-prefix 0x0002fdfb/64",
    );
    let j = list[0].json();
    assert_eq!(j["origin"], 65019);
    assert_eq!(j["rt"], "target:65019:100");
    assert!(error_of("ipv4-rtc", "10 0000").contains("RTC prefix length at octet 0 is 16"));
    assert!(error_of("ipv4-rtc", "61").contains("is 97"));
}

#[test]
fn flow_vpn_rule_with_rd() {
    // Length 15: RD 0:65000:1 (8), destination 192.0.2.0/24 (01 18 c00002), protocol =tcp
    // (03 81 06).
    let list = round_trip(
        "ipv4-flowspec-vpn",
        "10 0000fde800000001 0118c00002 038106",
        "flow-vpn rd 65000:1 match { destination 192.0.2.0/24; protocol =tcp; }",
    );
    assert_eq!(list[0].json()["rd"], "65000:1");
    assert_eq!(list[0].json()["components"][0]["prefix"], "192.0.2.0/24");
    // A length that covers only the RD: no component.
    assert!(error_of("ipv4-flowspec-vpn", "08 0000fde800000001").contains("empty flow rule"));
    assert!(
        error_of("ipv4-flowspec-vpn", "10 0000fde800000001 0118c00002 0381")
            .contains("has length 16, only 15 octets follow")
    );
}

#[test]
fn evpn_every_route_type() {
    // Type 1: RD 192.0.2.2:100, ESI 00:11:..:99, tag 100, label 1001 (0x3e9 << 4 | 1).
    let t1 = "01 19 0001c00002020064 00112233445566778899 00000064 003e91";
    // Type 2: MAC and IPv4, one label 10100 (0x2774 << 4 | 1 = 0x027741).
    let t2 =
        "02 25 0001c00002020064 00000000000000000000 00000000 30 001122aabb01 20 0a0a0001 027741";
    // Type 2: MAC only, two labels 10100 (no S) and 20100 (0x4e84 << 4 | 1 = 0x04e841).
    let t2b =
        "02 24 0001c00002020064 00000000000000000000 00000000 30 001122aabb02 00 027740 04e841";
    // Type 3: tag 0, IPv4 192.0.2.2.
    let t3 = "03 11 0001c00002020064 00000000 20 c0000202";
    // Type 4: ESI, IPv4.
    let t4 = "04 17 0001c00002020064 00112233445566778899 20 c0000202";
    // Type 5: ESI 0, tag 0, 10.20.0.0/24, gateway 0.0.0.0, label 10200 (0x27d8 << 4 | 1).
    let t5 = "05 22 0001c00002020064 00000000000000000000 00000000 18 0a140000 00000000 027d81";
    let all = format!("{t1} {t2} {t2b} {t3} {t4} {t5}");
    let list = round_trip(
        "l2vpn-evpn",
        &all,
        "evpn ethernet-ad rd 192.0.2.2:100 esi 00:11:22:33:44:55:66:77:88:99 ethernet-tag 100 label [ 1001 ]; \
         evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:01 ip 10.10.0.1 label [ 10100 ]; \
         evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:02 label [ 10100 20100 ]; \
         evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2; \
         evpn ethernet-segment rd 192.0.2.2:100 esi 00:11:22:33:44:55:66:77:88:99 ip 192.0.2.2; \
         evpn ip-prefix rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 prefix 10.20.0.0/24 gateway 0.0.0.0 label [ 10200 ]",
    );
    let j = list[1].json();
    assert_eq!(j["code"], 2);
    assert_eq!(j["name"], "MAC/IP advertisement");
    assert_eq!(j["mac"], "00:11:22:aa:bb:01");
    assert_eq!(j["ip"], "10.10.0.1");
    assert_eq!(j["label"][0], 10100);
    assert_eq!(j["ethernet-tag"], 0);
    assert_eq!(list[0].json()["esi-type"], 0);
    assert_eq!(list[5].json()["iplen"], 24);
    // A VXLAN VNI in the label field (24 bits, no bottom-of-stack convention).
    round_trip(
        "l2vpn-evpn",
        "03 11 0001c00002020064 00000000 20 c0000202 01 19 0001c00002020064 00112233445566778899 00000064 000064",
        "evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2; \
         evpn ethernet-ad rd 192.0.2.2:100 esi 00:11:22:33:44:55:66:77:88:99 ethernet-tag 100 raw-label [ 100 ]",
    );
    // An unknown route type is kept.
    round_trip("l2vpn-evpn", "09 02 abcd", "evpn route-type 9 0xabcd");
}

#[test]
fn evpn_hostile_lengths_are_named() {
    assert!(
        error_of(
            "l2vpn-evpn",
            "01 18 0001c00002020064 00112233445566778899 00000064 003e"
        )
        .contains("EVPN route at octet 1 has length 24, expected 25 octets")
    );
    // MAC length 47.
    let e = error_of(
        "l2vpn-evpn",
        "02 21 0001c00002020064 00000000000000000000 00000000 2f 001122aabb01 00 027741",
    );
    assert!(e.contains("MAC address length at octet 24 is 47"), "{e}");
    // IP length 24 in a MAC/IP route.
    let e = error_of(
        "l2vpn-evpn",
        "02 24 0001c00002020064 00000000000000000000 00000000 30 001122aabb01 18 0a0a00 027741",
    );
    assert!(e.contains("IP address length"), "{e}");
    // Multicast route with an IP length that does not match its size.
    let e = error_of("l2vpn-evpn", "03 11 0001c00002020064 00000000 80 c0000202");
    assert!(
        e.contains("IP address length at octet 14 is 128, expected 32"),
        "{e}"
    );
    // Type 5 with a /33 IPv4 prefix.
    let e = error_of(
        "l2vpn-evpn",
        "05 22 0001c00002020064 00000000000000000000 00000000 21 0a140000 00000000 027d81",
    );
    assert!(e.contains("IP prefix length"), "{e}");
    // A length running past the field.
    assert!(error_of("l2vpn-evpn", "03 40 00").contains("EVPN route truncated"));
}

#[test]
fn vpls_as_exabgp_writes_it() {
    // ExaBGP's vpls: rd 192.168.201.1:123 endpoint 5 base 10702 offset 1 size 8.
    let list = round_trip(
        "l2vpn-vpls",
        "0011 0001c0a8c901007b 0005 0001 0008 029ce1",
        "vpls rd 192.168.201.1:123 endpoint 5 base 10702 offset 1 size 8",
    );
    assert_eq!(list[0].json()["base"], 10702);
    assert!(error_of("l2vpn-vpls", "0012 00").contains("has length 18, expected 17"));
}

#[test]
fn mup_route_types() {
    round_trip(
        "ipv4-mup",
        // ISD 10.0.1.0/24, RD 100:100; DSD 10.0.0.1; T1ST 192.168.0.1/32 TEID 12345 QFI 9
        // endpoint 10.0.0.1 (no source length octet); T1ST with source 10.0.1.1; T2ST
        // endpoint 10.0.0.1 with 32 TEID bits 12345.
        "01 0001 0c 0000006400000064 18 0a0001 \
         01 0002 0c 0000006400000064 0a000001 \
         01 0003 17 0000006400000064 20 c0a80001 00003039 09 20 0a000001 \
         01 0003 1c 0000006400000064 20 c0a80001 00003039 09 20 0a000001 20 0a000101 \
         01 0004 11 0000006400000064 40 0a000001 00003039",
        "mup-isd 10.0.1.0/24 rd 100:100; mup-dsd 10.0.0.1 rd 100:100; \
         mup-t1st 192.168.0.1/32 rd 100:100 teid 12345 qfi 9 endpoint 10.0.0.1; \
         mup-t1st 192.168.0.1/32 rd 100:100 teid 12345 qfi 9 endpoint 10.0.0.1 source 10.0.1.1; \
         mup-t2st 10.0.0.1 rd 100:100 teid 12345/32",
    );
    let e = error_of("ipv4-mup", "01 0004 0d 0000006400000064 48 0a000001");
    assert!(e.contains("32 to 64 for IPv4"), "{e}");
    let e = error_of("ipv4-mup", "01 0001 0a 0000006400000064 21 0a");
    assert!(e.contains("at most 32"), "{e}");
    round_trip(
        "ipv4-mup",
        "02 0009 01 ff",
        "mup architecture 2 route-type 9 0xff",
    );
}

#[test]
fn sr_policy_nlri() {
    round_trip(
        "ipv4-srpolicy",
        "60 00000001 00000064 c0000209",
        "sr-policy distinguisher 1 color 100 endpoint 192.0.2.9",
    );
    round_trip(
        "ipv6-srpolicy",
        "c0 00000002 000000c8 20010db8000000000000000000000001",
        "sr-policy distinguisher 2 color 200 endpoint 2001:db8::1",
    );
    assert!(error_of("ipv4-srpolicy", "c0 00000002").contains("96 for IPv4"));
}

#[test]
fn bgp_ls_node_link_prefix() {
    // Node: IS-IS L2 (2), identifier 0, local node descriptors: AS 65000, IGP router ID
    // (system ID 0000.0000.0001).
    let node = "0001 001f 02 0000000000000000 0100 0012 0200 0004 0000fde8 0203 0006 000000000001";
    // Link: OSPFv2, local and remote nodes with router IDs, IPv4 interface and neighbor.
    let link = "0002 0031 03 0000000000000000 0100 0008 0203 0004 c0000201 0101 0008 0203 0004 c0000202 0103 0004 c6336401 0104 0004 c6336402";
    // IPv4 prefix: direct, local node AS 65000, IP reachability 198.51.100.0/24.
    let prefix = "0003 001d 04 0000000000000000 0100 0008 0200 0004 0000fde8 0109 0004 18c63364";
    let list = round_trip(
        "bgp-ls",
        &format!("{node} {link} {prefix}"),
        "bgp-ls node protocol isis-l2 identifier 0 local-node [ autonomous-system 65000 igp-router-id 0000.0000.0001 ]; \
         bgp-ls link protocol ospfv2 identifier 0 local-node [ igp-router-id 192.0.2.1 ] remote-node [ igp-router-id 192.0.2.2 ] ipv4-interface-address 198.51.100.1 ipv4-neighbor-address 198.51.100.2; \
         bgp-ls ipv4-prefix protocol direct identifier 0 local-node [ autonomous-system 65000 ] ip-reachability 198.51.100.0/24",
    );
    assert_eq!(list[0].json()["ls-nlri-type"], "node");
    assert_eq!(list[0].json()["tlvs"][0]["sub-tlvs"][0]["value"], "65000");
    // Node descriptors whose sub-TLV overruns them.
    let e = error_of(
        "bgp-ls",
        "0001 0011 02 0000000000000000 0100 0004 0200 0009",
    );
    assert!(e.contains("BGP-LS TLV value truncated"), "{e}");
}

#[test]
fn families_not_decoded_here_are_none() {
    assert!(decode(Family::IPV4_UNICAST, &[]).is_none());
    assert!(decode(Family::new(Afi::Ipv4, Safi::Evpn), &[1]).is_none());
    assert!(
        decode(Family::new(Afi::L2VPN, Safi::Evpn), &[])
            .unwrap()
            .unwrap()
            .is_empty()
    );
}

/// A bounded mutation run over the NLRI of these tests (the cargo-fuzz targets
/// fuzz/fuzz_targets/nlri_*.rs do the same without bounds).
#[test]
fn mutated_nlri_never_panic_and_round_trip() {
    let seeds: &[(&str, &str)] = &[
        (
            "ipv4-rtc",
            "60 0000fdfb 0002fdfb00000064 00 40 0000fdfb 0002fdfb",
        ),
        ("ipv4-flowspec-vpn", "10 0000fde800000001 0118c00002 038106"),
        (
            "l2vpn-evpn",
            "02 25 0001c00002020064 00000000000000000000 00000000 30 001122aabb01 20 0a0a0001 027741",
        ),
        (
            "l2vpn-evpn",
            "05 22 0001c00002020064 00000000000000000000 00000000 18 0a140000 00000000 027d81",
        ),
        (
            "l2vpn-evpn",
            "03 11 0001c00002020064 00000000 20 c0000202 04 17 0001c00002020064 00112233445566778899 20 c0000202",
        ),
        ("l2vpn-vpls", "0011 0001c0a8c901007b 0005 0001 0008 029ce1"),
        (
            "ipv4-mup",
            "01 0003 1c 0000006400000064 20 c0a80001 00003039 09 20 0a000001 20 0a000101 01 0004 11 0000006400000064 40 0a000001 00003039",
        ),
        ("ipv6-mup", "01 0001 0c 0000006400000064 18 200db8"),
        ("ipv4-srpolicy", "60 00000001 00000064 c0000209"),
        (
            "ipv6-mvpn",
            "07 2e 0000fde80001869f 0000fde8 80 fd120000000000000000000000000002 80 ff0e0000000000000000000000000001",
        ),
        (
            "bgp-ls",
            "0001 001f 02 0000000000000000 0100 0012 0200 0004 0000fde8 0203 0006 000000000001",
        ),
        (
            "bgp-ls-vpn",
            "0003 0025 0000fde800000001 04 0000000000000000 0100 0008 0200 0004 0000fde8 0109 0004 18c63364",
        ),
    ];
    let mut state: u64 = 0x5EED_0022;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (family, hex) in seeds {
        let f = fam(family);
        let bytes = parse_hex(hex).unwrap();
        assert!(matches!(decode(f, &bytes), Some(Ok(_))), "{family} seed");
        for _ in 0..20_000 {
            let mut m = bytes.clone();
            for _ in 0..1 + next() % 3 {
                let pos = (next() as usize) % m.len().max(1);
                match next() % 5 {
                    0 if !m.is_empty() => m[pos] ^= 1 << (next() % 8),
                    1 if !m.is_empty() => m[pos] = next() as u8,
                    2 => m.truncate((next() as usize) % (m.len() + 1)),
                    3 => m.push(next() as u8),
                    _ if !m.is_empty() => {
                        m.remove(pos);
                    }
                    _ => {}
                }
            }
            check_round_trip(f, &m);
        }
    }
}

/// Every NLRI of the test vectors and of these tests that has configuration words reads back
/// from its words into the same value (`words::parse` is the inverse of `Display`).
#[test]
fn configuration_words_read_back_into_the_same_nlri() {
    use crate::wire::attribute::{MpNlri, PathAttribute};
    use crate::wire::message::{DecodeContext, Message};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let mut checked = 0;
    for (_, v) in crate::testvec::load_tree(&root).unwrap() {
        let Ok((Message::Update(u), _)) = Message::decode(&v.bytes, DecodeContext::default())
        else {
            continue;
        };
        for a in &u.attributes {
            let (family, MpNlri::Raw(r)) = (match a {
                PathAttribute::MpReach(m) => (m.family, &m.nlri),
                PathAttribute::MpUnreach(m) => (m.family, &m.nlri),
                _ => continue,
            }) else {
                continue;
            };
            let Some(Ok(list)) = decode(family, r) else {
                continue;
            };
            for n in list {
                let parsable = match &n {
                    FamilyNlri::Evpn(e) => !matches!(e, evpn::Evpn::Unknown { .. }),
                    FamilyNlri::Rtc(r) => r.bits == 96 || r.bits == 0,
                    FamilyNlri::Vpls(v) => v.raw_base & 0xF == 1,
                    FamilyNlri::Mup(m) => !matches!(m.route, mup::MupRoute::Unknown { .. }),
                    FamilyNlri::SrPolicy(_) => true,
                    FamilyNlri::Mvpn(m) => !matches!(m, mvpn::Mvpn::Unknown { .. }),
                    FamilyNlri::FlowVpn(_) | FamilyNlri::BgpLs(_) => false,
                };
                if !parsable {
                    continue;
                }
                let text = n.to_string();
                let w: Vec<&str> = text.split_whitespace().collect();
                let (back, used) = words::parse(&w).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!(back, n, "{text}");
                assert_eq!(used, w.len(), "{text}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 25, "only {checked} NLRI checked");
}

#[test]
fn configuration_words_say_what_is_wrong_and_where() {
    let p = |s: &str| {
        let w: Vec<&str> = s.split_whitespace().collect();
        words::parse(&w)
    };
    // The example statements, then the words after the NLRI are left to the caller.
    let (n, used) = p(
        "evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 \
         ethernet-tag 0 mac 00:11:22:aa:bb:02 label [ 10100 20100 ] next-hop 192.0.2.2",
    )
    .unwrap();
    assert_eq!(used, 15);
    let mut b = Vec::new();
    n.emit(&mut b);
    // Labels 10100 (no bottom of stack) and 20100 (bottom of stack), RFC 3032.
    assert!(crate::wire::attribute::hex(&b).ends_with("02774004e841"));
    let (n, _) = p("rtc origin 65019 route-target target:65019:100 next-hop 192.0.2.1").unwrap();
    assert_eq!(
        n.to_string(),
        "rtc origin 65019 route-target target:65019:100"
    );
    let e = p("evpn mac-ip rd 192.0.2.2:100 mac 00:11:22:aa:bb label [ 1 ]").unwrap_err();
    assert_eq!(
        (e.index, e.message.as_str()),
        (
            5,
            "'00:11:22:aa:bb' is not a MAC address (00:11:22:aa:bb:cc)"
        )
    );
    let e = p("evpn mac-ip rd 192.0.2.2:100 label [ 1 ]").unwrap_err();
    assert_eq!((e.index, e.message.as_str()), (1, "missing 'mac'"));
    let e = p("evpn type-9 rd 1:1").unwrap_err();
    assert_eq!(e.index, 1);
    let e = p("evpn ethernet-ad rd 1:1 label [ 1048576 ]").unwrap_err();
    assert!(e.message.contains("over 1048575"), "{e}");
    let e = p("evpn multicast rd 1:1 ip").unwrap_err();
    assert_eq!(e.message, "expected an IP address after 'ip'");
    let e = p("mup-t2st 192.0.2.1 rd 1:1 teid 70000/16").unwrap_err();
    assert!(e.message.contains("does not fit 16 bits"), "{e}");
    assert!(p("evpn mac-ip rd 1:1 mac 00:11:22:33:44:55 label [ 1").is_err());
}

#[test]
fn mvpn_route_types_as_exabgp_writes_them() {
    // ExaBGP's api-mvpn: shared join rp 10.99.199.1 group 239.251.255.228 rd 65000:99999
    // source-as 65000; source AD 10.99.12.4.
    round_trip(
        "ipv4-mvpn",
        "06 16 0000fde80001869f 0000fde8 20 0a63c701 20 effbffe4 \
         05 12 0000fde80001869f 20 0a630c04 20 effbffe4",
        "mcast-vpn shared-join rp 10.99.199.1 group 239.251.255.228 rd 65000:99999 source-as 65000; \
         mcast-vpn source-ad source 10.99.12.4 group 239.251.255.228 rd 65000:99999",
    );
    let e = error_of(
        "ipv4-mvpn",
        "05 12 0000fde80001869f 80 0a630c04 20 effbffe4",
    );
    assert!(e.contains("32 bits in ipv4 mcast-vpn"), "{e}");
}

#[test]
fn bgp_ls_attribute_by_name() {
    // Node name "r1" (1026), IGP metric 10 in 3 octets (1095), max link bandwidth 125000000
    // bytes/s as an IEEE float (1089), an unknown TLV 9999.
    let v = parse_hex("0402 0002 7231 0447 0003 00000a 0441 0004 4cee6b28 270f 0001 ff").unwrap();
    assert_eq!(
        bgp_ls::attribute_text(&v),
        "bgp-ls-attribute [ node-name r1; igp-metric 10; max-link-bandwidth 125000000; tlv-9999 0xff; ]"
    );
    assert_eq!(bgp_ls::attribute_json(&v)[1]["value"], "10");
    // A TLV that overruns the attribute.
    assert!(bgp_ls::attribute_text(&v[..5]).starts_with("bgp-ls-attribute malformed"));
    for n in 0..v.len() {
        let _ = bgp_ls::attribute_json(&v[..n]);
    }
}
