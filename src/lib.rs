//! clusterphone 2: messaging between a Node.js `cluster` primary and its workers.
//!
//! [`core`] is the sans-IO state machine (no napi, unit-tested with `cargo test
//! --no-default-features`); `binding` is the thin N-API surface over it. Payloads, handles and
//! Promises never enter Rust: only peer, namespace, sequence and slot numbers do.
#![deny(clippy::all)]

pub mod core;

// The binding is exercised by the JavaScript tests; napi-derive registers nothing under cfg(test).
#[cfg(all(feature = "napi", not(test)))]
mod binding;
#[cfg(all(feature = "napi", not(test)))]
mod fast;
