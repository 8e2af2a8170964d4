//! What the route-manager thread reacts to, in a module of its own so that the threads that
//! send it (signals, the file watcher, helpers, health checks, the control socket, listeners,
//! neighbor threads) need not know the manager. Three typed channels, served fairly (one
//! `select!`), so that a flooding helper delays neither the neighbors' events nor the
//! operator's commands: [`ManagerEvent`] (signals, listeners, neighbor threads), [`ProgramEvent`]
//! (helpers and health checks) and the control socket's [`ApiRequest`]s.

use std::net::{IpAddr, TcpStream};
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::api::ApiRequest;
use crate::api::process::HelperOutput;
use crate::session::peer::PeerReport;
use crate::wire::update::Update;

#[derive(Debug)]
pub enum ManagerEvent {
    /// Re-read the configuration file (SIGHUP, SIGUSR1).
    Reload,
    /// `--watch` saw a change: reload as SIGHUP does (the parse cache first) and answer
    /// what was done.
    ReloadWatched(Sender<Reloaded>),
    /// Send Cease to every peer and stop (SIGTERM, SIGINT).
    Shutdown,
    /// A listener accepted a connection.
    Incoming(TcpStream),
    /// Log every neighbor's state (SIGUSR2).
    DumpStatus,
    /// An UPDATE a neighbor's peer sent, for the helpers that asked for them and the
    /// neighbor's adj-rib-in; `true` when RFC 7606 makes its routes withdrawn.
    Received(IpAddr, Box<Update>, bool),
    /// What happened to a neighbor's session, in the order its thread saw it.
    Peer(PeerReport),
}

/// What helpers and health checks send the manager, in the order they send it.
#[derive(Debug)]
pub enum ProgramEvent {
    /// A command line of a helper, a health check's result, a helper's exit.
    Request(ApiRequest),
    /// A helper's program (re)started: it gets the current neighbor states.
    HelperStarted(Arc<HelperOutput>),
    /// A health check finished its first check, or changed state.
    CheckResult(CheckResult),
}

/// What a health check found.
#[derive(Debug)]
pub struct CheckResult {
    pub name: String,
    pub up: bool,
    /// Set once its generation was stopped: then the result changes nothing.
    pub stopped: Arc<std::sync::atomic::AtomicBool>,
}

/// What a reload did (what `--watch` needs to know to go on watching).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reloaded {
    /// Applied from the changed files of routes alone, or nothing changed: the same files.
    Files,
    /// The whole configuration was read and applied; it was read from these files.
    Whole(Vec<std::path::PathBuf>),
    /// Not applied: the configuration does not load (the running one stays).
    Refused(String),
}
