//! Claims → [`Identity`]: the user claim becomes a `DOMAIN\user` name the farms accept and the SID
//! claim a checked list, whichever source (JWT or introspection) the claims came from.

use serde_json::{Map, Value};

use super::{Identity, IdentityConfig, IdentityError};

/// Longest user name taken from a claim, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Most SIDs taken from a claim.
pub const MAX_SIDS: usize = 1024;
/// Longest SID: 15 sub-authorities of 10 digits fit well within this.
const MAX_SID_LEN: usize = 256;
/// Characters Windows refuses in SAM account and domain names; `\` is the separator and may
/// appear once.
const FORBIDDEN: &[char] = &[
    '"', '/', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>',
];

/// Which claims to read and the domain for names without one.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    user_claim: String,
    sids_claim: Option<String>,
    domain: Option<String>,
}

impl Mapping {
    pub(crate) fn new(config: &IdentityConfig) -> Mapping {
        Mapping {
            user_claim: config.user_claim.clone(),
            sids_claim: config.sids_claim.clone(),
            domain: config.domain.clone(),
        }
    }

    /// The identity of verified claims.
    pub(crate) fn identity(&self, claims: &Map<String, Value>) -> Result<Identity, IdentityError> {
        let name = claims
            .get(&self.user_claim)
            .and_then(Value::as_str)
            .ok_or(IdentityError::Invalid)?;
        let sam = map_user(name, self.domain.as_deref()).ok_or(IdentityError::Invalid)?;
        let sids = match self.sids_claim.as_ref().and_then(|c| claims.get(c)) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= MAX_SIDS => items
                .iter()
                .map(|v| match v.as_str() {
                    Some(s) if check_sid(s) => Ok(s.to_string()),
                    _ => Err(IdentityError::Invalid),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(IdentityError::Invalid),
        };
        Ok(Identity { sam, sids })
    }
}

fn plain_part(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_control() || FORBIDDEN.contains(&c) || c == '\\')
}

/// The `DOMAIN\user` form of a user claim: `DOMAIN\user` is kept, `user@suffix` and a bare `user`
/// take `domain`. `None` when the name is unusable (empty, too long, control or forbidden
/// characters, a second `\`) or needs a domain and none is configured.
pub fn map_user(name: &str, domain: Option<&str>) -> Option<String> {
    if name.chars().count() > MAX_NAME_CHARS {
        return None;
    }
    let (dom, user) = match name.split_once('\\') {
        Some((dom, user)) => (dom, user),
        None => {
            let user = match name.split_once('@') {
                Some((user, suffix)) if !suffix.is_empty() => user,
                Some(_) => return None,
                None => name,
            };
            (domain?, user)
        }
    };
    (plain_part(dom) && plain_part(user)).then(|| format!("{dom}\\{user}"))
}

/// Whether `s` is a SID in string form: `S-1-` then dash-separated decimal numbers.
pub fn check_sid(s: &str) -> bool {
    s.len() <= MAX_SID_LEN
        && s.strip_prefix("S-1-").is_some_and(|rest| {
            rest.split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
}
