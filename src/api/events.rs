//! Events written to helpers' stdin, in ExaBGP 4's text or JSON form.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::config::process::Encoder;

/// What happened to a neighbor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NeighborEvent {
    Up,
    Down(String),
    /// A NOTIFICATION the peer sent: code, subcode, and its description.
    Notification(u8, u8, String),
}

/// The neighbor an event is about.
pub struct Peer {
    pub local: Option<IpAddr>,
    pub peer: IpAddr,
    pub local_as: u32,
    pub peer_as: u32,
}

/// One line for a helper's stdin.
pub fn encode(encoder: Encoder, peer: &Peer, event: &NeighborEvent, counter: u64) -> String {
    match encoder {
        Encoder::Text => match event {
            NeighborEvent::Up => format!("neighbor {} up", peer.peer),
            NeighborEvent::Down(reason) => format!("neighbor {} down - {reason}", peer.peer),
            NeighborEvent::Notification(code, subcode, text) => format!(
                "neighbor {} notification code {code} subcode {subcode} data {text}",
                peer.peer
            ),
        },
        Encoder::Json => {
            let mut neighbor = json!({
                "address": {
                    "local": peer.local.map(|a| a.to_string()).unwrap_or_default(),
                    "peer": peer.peer.to_string(),
                },
                "asn": { "local": peer.local_as, "peer": peer.peer_as },
            });
            let kind = match event {
                NeighborEvent::Up => {
                    neighbor["state"] = json!("up");
                    "state"
                }
                NeighborEvent::Down(reason) => {
                    neighbor["state"] = json!("down");
                    neighbor["reason"] = json!(reason);
                    "state"
                }
                NeighborEvent::Notification(code, subcode, text) => {
                    neighbor["notification"] =
                        json!({ "code": code, "subcode": subcode, "data": text });
                    "notification"
                }
            };
            envelope(kind, counter, neighbor)
        }
    }
}

/// What helpers get when bgpinject stops (ExaBGP sends `shutdown` too).
pub fn shutdown(encoder: Encoder, counter: u64) -> String {
    match encoder {
        Encoder::Text => "shutdown".into(),
        Encoder::Json => {
            let mut v: serde_json::Value =
                serde_json::from_str(&envelope("notification", counter, json!(null)))
                    .unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("neighbor");
                o.insert("notification".into(), json!("shutdown"));
            }
            v.to_string()
        }
    }
}

fn envelope(kind: &str, counter: u64, neighbor: serde_json::Value) -> String {
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    json!({
        "exabgp": "4.0.1",
        "time": time,
        "host": "bgpinject",
        "pid": std::process::id(),
        "ppid": unsafe { libc::getppid() },
        "counter": counter,
        "type": kind,
        "neighbor": neighbor,
    })
    .to_string()
}

/// A NOTIFICATION received, from the neighbor's last error ("peer sent NOTIFICATION 6/2 ...").
pub fn received_notification(last_error: &str) -> Option<NeighborEvent> {
    let rest = last_error.strip_prefix("peer sent NOTIFICATION ")?;
    let (codes, _) = rest.split_once(' ').unwrap_or((rest, ""));
    let (code, subcode) = codes.split_once('/')?;
    Some(NeighborEvent::Notification(
        code.parse().ok()?,
        subcode.parse().ok()?,
        rest.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Peer {
        Peer {
            local: Some("127.0.0.1".parse().unwrap()),
            peer: "127.0.0.2".parse().unwrap(),
            local_as: 65000,
            peer_as: 65001,
        }
    }

    #[test]
    fn text_and_json_states() {
        assert_eq!(
            encode(Encoder::Text, &peer(), &NeighborEvent::Up, 1),
            "neighbor 127.0.0.2 up"
        );
        let j: serde_json::Value =
            serde_json::from_str(&encode(Encoder::Json, &peer(), &NeighborEvent::Up, 3)).unwrap();
        assert_eq!(j["type"], "state");
        assert_eq!(j["neighbor"]["state"], "up");
        assert_eq!(j["neighbor"]["address"]["peer"], "127.0.0.2");
        let j: serde_json::Value = serde_json::from_str(&shutdown(Encoder::Json, 4)).unwrap();
        assert_eq!(j["notification"], "shutdown");
    }

    #[test]
    fn notification_from_last_error() {
        assert_eq!(
            received_notification("peer sent NOTIFICATION 6/2 (Cease / Administrative Shutdown)"),
            Some(NeighborEvent::Notification(
                6,
                2,
                "6/2 (Cease / Administrative Shutdown)".into()
            ))
        );
        assert_eq!(received_notification("connection: reset"), None);
    }
}
