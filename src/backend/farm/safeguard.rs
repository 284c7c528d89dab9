//! The active-session safeguard of a farm-backed store: which farms a listing asks, and whether
//! each may be asked for active sessions. On a farm older than XenDesktop 7, asking for active
//! sessions disconnects them, so the policy is taken per farm (see `config::Farm`), and every
//! decision on a request for active sessions is counted by farm.

use super::FarmMember;
use crate::config::ActiveSessionPolicy;
use crate::metrics::{self, ActiveQueryOutcome, SafeguardAction};
use crate::protocol::session_params::SessionParams;

/// What a listing will ask.
pub struct Plan {
    /// Each farm asked, with whether active sessions may be asked for there.
    pub queries: Vec<(FarmMember, bool)>,
    /// What the safeguard did for the store as a whole, when active sessions were asked for.
    pub outcome: Option<ActiveQueryOutcome>,
}

impl Plan {
    /// Was the request refused by a farm's policy?
    pub fn refused(&self) -> bool {
        self.outcome == Some(ActiveQueryOutcome::Refused)
    }
}

/// The plan for a listing with `params` over `members`, counted under `store`.
pub fn plan(store: &str, members: &[FarmMember], params: &SessionParams) -> Plan {
    let wants_active = params.include_active_sessions == Some(true);
    let apps_only = params.app_sessions_only == Some(true);
    let mut queries = Vec::new();
    let mut actions = Vec::new();
    for member in members {
        let farm = &member.farm;
        if apps_only && !farm.serves_app_sessions_only() {
            actions.push((farm.name.as_str(), SafeguardAction::Skipped));
            continue;
        }
        let (active, action) = match farm.active_sessions {
            ActiveSessionPolicy::Allow => (true, SafeguardAction::Allowed),
            ActiveSessionPolicy::Strip => (false, SafeguardAction::Stripped),
            ActiveSessionPolicy::Reject => (false, SafeguardAction::Refused),
        };
        actions.push((farm.name.as_str(), action));
        queries.push((member.clone(), wants_active && active));
    }
    if !wants_active {
        return Plan {
            queries,
            outcome: None,
        };
    }
    for (farm, action) in &actions {
        metrics::farm_active_session_query(store, farm, *action);
    }
    let has = |a: SafeguardAction| actions.iter().any(|(_, x)| *x == a);
    let outcome = if has(SafeguardAction::Refused) {
        ActiveQueryOutcome::Refused
    } else if has(SafeguardAction::Stripped) || !has(SafeguardAction::Allowed) {
        ActiveQueryOutcome::Stripped
    } else {
        ActiveQueryOutcome::Allowed
    };
    Plan {
        queries,
        outcome: Some(outcome),
    }
}
