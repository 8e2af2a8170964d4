//! The BFD Control packet (RFC 5880 §4.1): a plain value parsed from a UDP payload and
//! emitted into one. Decoding applies every check of RFC 5880 §6.8.6 that needs only the
//! packet itself (version, length, detect multiplier, multipoint bit, discriminator,
//! authentication); the checks that need the session (Your Discriminator against the state)
//! are the session's.

use std::fmt;
use std::time::Duration;

/// RFC 5880 §4.1: the protocol version this implements.
pub const VERSION: u8 = 1;
/// RFC 5880 §4.1: the mandatory section, without authentication.
pub const MIN_LEN: usize = 24;
/// RFC 5880 §6.8.6: with the A bit set the packet is at least 26 bytes.
pub const MIN_LEN_AUTH: usize = 26;

const POLL: u8 = 0x20;
const FINAL: u8 = 0x10;
const CONTROL_PLANE_INDEPENDENT: u8 = 0x08;
const AUTH_PRESENT: u8 = 0x04;
const DEMAND: u8 = 0x02;
const MULTIPOINT: u8 = 0x01;

/// RFC 5880 §4.1 "State (Sta)".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    AdminDown,
    Down,
    Init,
    Up,
}

impl State {
    fn from_bits(bits: u8) -> State {
        match bits & 0x3 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }

    fn bits(self) -> u8 {
        match self {
            State::AdminDown => 0,
            State::Down => 1,
            State::Init => 2,
            State::Up => 3,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        })
    }
}

/// RFC 5880 §4.1 "Diagnostic (Diag)"; values not defined there round-trip as `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Diag {
    None,
    ControlDetectionTimeExpired,
    EchoFunctionFailed,
    NeighborSignaledSessionDown,
    ForwardingPlaneReset,
    PathDown,
    ConcatenatedPathDown,
    AdministrativelyDown,
    ReverseConcatenatedPathDown,
    Unknown(u8),
}

impl Diag {
    fn from_bits(bits: u8) -> Diag {
        match bits & 0x1f {
            0 => Diag::None,
            1 => Diag::ControlDetectionTimeExpired,
            2 => Diag::EchoFunctionFailed,
            3 => Diag::NeighborSignaledSessionDown,
            4 => Diag::ForwardingPlaneReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatenatedPathDown,
            7 => Diag::AdministrativelyDown,
            8 => Diag::ReverseConcatenatedPathDown,
            other => Diag::Unknown(other),
        }
    }

    fn bits(self) -> u8 {
        match self {
            Diag::None => 0,
            Diag::ControlDetectionTimeExpired => 1,
            Diag::EchoFunctionFailed => 2,
            Diag::NeighborSignaledSessionDown => 3,
            Diag::ForwardingPlaneReset => 4,
            Diag::PathDown => 5,
            Diag::ConcatenatedPathDown => 6,
            Diag::AdministrativelyDown => 7,
            Diag::ReverseConcatenatedPathDown => 8,
            Diag::Unknown(v) => v & 0x1f,
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diag::None => f.write_str("no diagnostic"),
            Diag::ControlDetectionTimeExpired => f.write_str("control detection time expired"),
            Diag::EchoFunctionFailed => f.write_str("echo function failed"),
            Diag::NeighborSignaledSessionDown => f.write_str("neighbor signaled session down"),
            Diag::ForwardingPlaneReset => f.write_str("forwarding plane reset"),
            Diag::PathDown => f.write_str("path down"),
            Diag::ConcatenatedPathDown => f.write_str("concatenated path down"),
            Diag::AdministrativelyDown => f.write_str("administratively down"),
            Diag::ReverseConcatenatedPathDown => f.write_str("reverse concatenated path down"),
            Diag::Unknown(v) => write!(f, "diagnostic {v}"),
        }
    }
}

/// One BFD Control packet without authentication (bgpinject does not do BFD
/// authentication; a packet with the A bit is refused, RFC 5880 §6.8.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    pub diag: Diag,
    pub state: State,
    pub poll: bool,
    pub final_: bool,
    pub control_plane_independent: bool,
    pub demand: bool,
    pub detect_mult: u8,
    pub my_discriminator: u32,
    pub your_discriminator: u32,
    /// Microseconds on the wire.
    pub desired_min_tx: u32,
    pub required_min_rx: u32,
    pub required_min_echo_rx: u32,
}

/// Why a received packet is discarded (RFC 5880 §6.8.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketError {
    /// Fewer bytes than the mandatory section.
    Truncated {
        received: usize,
    },
    BadVersion(u8),
    /// The Length field is below the minimum or beyond the datagram.
    BadLength {
        field: u8,
        received: usize,
    },
    ZeroDetectMult,
    Multipoint,
    ZeroMyDiscriminator,
    /// The A bit is set: bgpinject does not do BFD authentication.
    Authenticated,
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::Truncated { received } => {
                write!(f, "{received} bytes, a BFD packet has at least {MIN_LEN}")
            }
            PacketError::BadVersion(v) => write!(f, "version {v}, expected {VERSION}"),
            PacketError::BadLength { field, received } => write!(
                f,
                "length field {field} in a datagram of {received} bytes (at least {MIN_LEN}, at most the datagram)"
            ),
            PacketError::ZeroDetectMult => f.write_str("detect multiplier 0"),
            PacketError::Multipoint => f.write_str("multipoint bit set"),
            PacketError::ZeroMyDiscriminator => f.write_str("my discriminator 0"),
            PacketError::Authenticated => {
                f.write_str("authentication section present (BFD authentication is not supported)")
            }
        }
    }
}

impl std::error::Error for PacketError {}

impl Packet {
    /// Parses one UDP payload. Bytes beyond the Length field are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Packet, PacketError> {
        let h: &[u8; MIN_LEN] =
            bytes
                .get(..MIN_LEN)
                .and_then(|b| b.try_into().ok())
                .ok_or(PacketError::Truncated {
                    received: bytes.len(),
                })?;
        let version = h[0] >> 5;
        if version != VERSION {
            return Err(PacketError::BadVersion(version));
        }
        let flags = h[1];
        let length = h[3];
        let min = if flags & AUTH_PRESENT != 0 {
            MIN_LEN_AUTH
        } else {
            MIN_LEN
        };
        if usize::from(length) < min || usize::from(length) > bytes.len() {
            return Err(PacketError::BadLength {
                field: length,
                received: bytes.len(),
            });
        }
        if flags & AUTH_PRESENT != 0 {
            return Err(PacketError::Authenticated);
        }
        if h[2] == 0 {
            return Err(PacketError::ZeroDetectMult);
        }
        if flags & MULTIPOINT != 0 {
            return Err(PacketError::Multipoint);
        }
        let word = |i: usize| {
            let mut w = [0u8; 4];
            if let Some(src) = h.get(i..i + 4) {
                w.copy_from_slice(src);
            }
            u32::from_be_bytes(w)
        };
        let my_discriminator = word(4);
        if my_discriminator == 0 {
            return Err(PacketError::ZeroMyDiscriminator);
        }
        Ok(Packet {
            diag: Diag::from_bits(h[0]),
            state: State::from_bits(flags >> 6),
            poll: flags & POLL != 0,
            final_: flags & FINAL != 0,
            control_plane_independent: flags & CONTROL_PLANE_INDEPENDENT != 0,
            demand: flags & DEMAND != 0,
            detect_mult: h[2],
            my_discriminator,
            your_discriminator: word(8),
            desired_min_tx: word(12),
            required_min_rx: word(16),
            required_min_echo_rx: word(20),
        })
    }

    /// The packet's 24 bytes.
    pub fn emit(&self) -> [u8; MIN_LEN] {
        let mut out = [0u8; MIN_LEN];
        out[0] = (VERSION << 5) | self.diag.bits();
        let mut flags = self.state.bits() << 6;
        for (set, bit) in [
            (self.poll, POLL),
            (self.final_, FINAL),
            (self.control_plane_independent, CONTROL_PLANE_INDEPENDENT),
            (self.demand, DEMAND),
        ] {
            if set {
                flags |= bit;
            }
        }
        out[1] = flags;
        out[2] = self.detect_mult;
        out[3] = MIN_LEN as u8;
        for (i, v) in [
            self.my_discriminator,
            self.your_discriminator,
            self.desired_min_tx,
            self.required_min_rx,
            self.required_min_echo_rx,
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(dst) = out.get_mut(4 + 4 * i..8 + 4 * i) {
                dst.copy_from_slice(&v.to_be_bytes());
            }
        }
        out
    }
}

/// An interval as carried on the wire (microseconds, saturating at `u32::MAX`).
pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state {} diag {} my {} your {} tx {} us rx {} us mult {}{}{}",
            self.state,
            self.diag,
            self.my_discriminator,
            self.your_discriminator,
            self.desired_min_tx,
            self.required_min_rx,
            self.detect_mult,
            if self.poll { " poll" } else { "" },
            if self.final_ { " final" } else { "" },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written out by hand from RFC 5880 §4.1: diag 0, state Init, detect mult 3, my
    /// discriminator 0x6c2c1b6e, your 0x5d1a0001, 100 ms / 100 ms.
    const BIRD_INIT: [u8; 24] = [
        0x20, 0x80, 0x03, 0x18, 0x6c, 0x2c, 0x1b, 0x6e, 0x5d, 0x1a, 0x00, 0x01, 0x00, 0x01, 0x86,
        0xa0, 0x00, 0x01, 0x86, 0xa0, 0x00, 0x00, 0x00, 0x00,
    ];

    /// Received from BIRD 2.0.12 (`protocol bfd`, neighbor 198.18.24.1, 100 ms) on a veth
    /// pair: its first packet (Down, slow start at 1 s), then Init once it heard our Down
    /// (our discriminator 0x01020304).
    const BIRD_DOWN: &str = "20400318a5ab5e7400000000000f4240000186a000000000";
    const BIRD_INIT_REAL: &str = "20800318a5ab5e7401020304000f4240000186a000000000";
    /// Received from FRR 8.4.4's bfdd (static peer, 100 ms): it slow-starts its receive
    /// interval too, and asks for echo at 50 ms.
    const FRR_DOWN: &str = "20400318f07263fb00000000000f4240000f42400000c350";
    const FRR_INIT: &str = "20800318f07263fb01020304000f4240000f42400000c350";

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len() / 2)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_what_bird_and_frr_send_and_emits_the_same_bytes() {
        for (name, text, state, your, rx, echo) in [
            ("BIRD down", BIRD_DOWN, State::Down, 0, 100_000, 0),
            (
                "BIRD init",
                BIRD_INIT_REAL,
                State::Init,
                0x0102_0304,
                100_000,
                0,
            ),
            ("FRR down", FRR_DOWN, State::Down, 0, 1_000_000, 50_000),
            (
                "FRR init",
                FRR_INIT,
                State::Init,
                0x0102_0304,
                1_000_000,
                50_000,
            ),
        ] {
            let bytes = hex(text);
            let p = Packet::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(p.state, state, "{name}");
            assert_eq!(p.diag, Diag::None, "{name}");
            assert_eq!(p.detect_mult, 3, "{name}");
            assert_eq!(p.your_discriminator, your, "{name}");
            assert_eq!(p.desired_min_tx, 1_000_000, "{name}: slow start");
            assert_eq!(p.required_min_rx, rx, "{name}");
            assert_eq!(p.required_min_echo_rx, echo, "{name}");
            assert!(!p.poll && !p.final_ && !p.demand, "{name}");
            assert_eq!(p.emit().to_vec(), bytes, "{name}");
        }
    }

    #[test]
    fn decodes_a_hand_written_packet_and_emits_it_back() {
        let p = Packet::decode(&BIRD_INIT).unwrap();
        assert_eq!(p.state, State::Init);
        assert_eq!(p.diag, Diag::None);
        assert_eq!(p.detect_mult, 3);
        assert_eq!(p.my_discriminator, 0x6c2c_1b6e);
        assert_eq!(p.your_discriminator, 0x5d1a_0001);
        assert_eq!(p.desired_min_tx, 100_000);
        assert_eq!(p.required_min_rx, 100_000);
        assert!(!p.poll && !p.final_);
        assert_eq!(p.emit(), BIRD_INIT);
    }

    #[test]
    fn flags_and_diag_round_trip() {
        let p = Packet {
            diag: Diag::Unknown(31),
            state: State::Up,
            poll: true,
            final_: false,
            control_plane_independent: true,
            demand: true,
            detect_mult: 255,
            my_discriminator: u32::MAX,
            your_discriminator: 0,
            desired_min_tx: 1,
            required_min_rx: u32::MAX,
            required_min_echo_rx: 7,
        };
        assert_eq!(Packet::decode(&p.emit()), Ok(p));
        let f = Packet {
            poll: false,
            final_: true,
            ..p
        };
        assert_eq!(Packet::decode(&f.emit()), Ok(f));
    }

    fn with(byte: usize, value: u8) -> Vec<u8> {
        let mut b = BIRD_INIT.to_vec();
        b[byte] = value;
        b
    }

    #[test]
    fn every_packet_check_of_rfc5880_6_8_6() {
        assert_eq!(
            Packet::decode(&BIRD_INIT[..23]),
            Err(PacketError::Truncated { received: 23 })
        );
        assert_eq!(
            Packet::decode(&[]),
            Err(PacketError::Truncated { received: 0 })
        );
        assert_eq!(
            Packet::decode(&with(0, 0x40)),
            Err(PacketError::BadVersion(2))
        );
        assert_eq!(
            Packet::decode(&with(3, 23)),
            Err(PacketError::BadLength {
                field: 23,
                received: 24
            })
        );
        assert_eq!(
            Packet::decode(&with(3, 25)),
            Err(PacketError::BadLength {
                field: 25,
                received: 24
            })
        );
        assert_eq!(
            Packet::decode(&with(2, 0)),
            Err(PacketError::ZeroDetectMult)
        );
        assert_eq!(Packet::decode(&with(1, 0x81)), Err(PacketError::Multipoint));
        let mut zero_disc = BIRD_INIT;
        zero_disc[4..8].copy_from_slice(&[0; 4]);
        assert_eq!(
            Packet::decode(&zero_disc),
            Err(PacketError::ZeroMyDiscriminator)
        );
        // The A bit needs 26 bytes; with them it is refused as unsupported.
        assert!(matches!(
            Packet::decode(&with(1, 0x84)),
            Err(PacketError::BadLength { .. })
        ));
        let mut auth = with(1, 0x84);
        auth[3] = 26;
        auth.extend_from_slice(&[1, 2]);
        assert_eq!(Packet::decode(&auth), Err(PacketError::Authenticated));
        // A longer datagram is fine: the Length field says where the packet ends.
        let mut padded = BIRD_INIT.to_vec();
        padded.extend_from_slice(&[0xff; 8]);
        assert_eq!(Packet::decode(&padded), Packet::decode(&BIRD_INIT));
    }
}
