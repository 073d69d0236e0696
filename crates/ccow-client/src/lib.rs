//! The CCOW context vault's protocol: the JSON shapes of its REST API, the
//! events of its change stream, and a typed client.
//!
//! The shapes follow med-z1's v2.1 vault (reference §4.1) and add a
//! `version` to contexts, history entries and events: it grows with every
//! change of a user's context, so a client can ignore a stale event or
//! response. The client is what the web app and other CCOW-aware
//! applications link; they never link the vault's server code.

mod client;
mod types;

pub use client::{CcowClient, ClientError, Credential, EventStream};
pub use types::*;
