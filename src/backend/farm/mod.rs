//! Legacy farms behind a store: the gateway answers the Sessions Service itself by speaking NFuse
//! to each farm's XML brokers.
//!
//! - [`client`]: one NFuse request to one farm (failover between its brokers, counted).
//! - [`calls`]: the NFuse exchanges of each operation, fanned out over the farms.
//! - [`safeguard`]: which farms a listing asks, and whether for active sessions.
//! - [`sessions`]: the Sessions Service on top: merged sessionState, sessionResults, launch data,
//!   signed session ids, farm `ErrorId`s turned into answers.
//! - [`health`]: the NFuse health check of a broker.

pub mod calls;
pub mod client;
pub mod health;
pub mod safeguard;
pub mod sessions;

use std::sync::Arc;

pub use client::{FarmCallError, FarmClient};
pub use health::NfuseHealthCheck;
pub use sessions::{FarmError, LaunchClient};

use super::pool::Pool;
use super::trust::Trust;
use crate::config::Farm;
use crate::protocol::session_id::SessionIdKey;

/// A farm with its brokers.
#[derive(Clone)]
pub struct FarmMember {
    pub farm: Arc<Farm>,
    pub pool: Pool,
    /// The CA of the brokers' certificates (`ca_file`), when the farm has one.
    pub trust: Option<Trust>,
}

/// The farms of one store as the gateway runs them.
pub struct Farms {
    /// In configuration order, which is also the order of merged session lists.
    pub members: Vec<FarmMember>,
    /// Signs the session ids handed to clients.
    pub session_ids: SessionIdKey,
}
