//! Namespace URIs of the StoreFront Store API documents.
//!
//! Elements are always matched on (namespace URI, local name), never on a prefix: clients use the
//! default namespace, `q1:` or anything else for the same document.

/// `sessionparams` / `sessionParams`: request body of `available`, `disconnect` and `logoff`.
pub const SESSION_PARAMS: &str = "http://citrix.com/delivery-services/1-0/sessionparams";
/// `launchparams`: request body of `.../launch/ica`.
pub const LAUNCH_PARAMS: &str = "http://citrix.com/delivery-services/1-0/launchparams";
/// `sessionState`: answer of `available`.
pub const SESSION_STATE: &str = "http://citrix.com/delivery-services/1-0/sessionstate";
/// `sessionResults` / `sessionResult`: answer of `disconnect` and `logoff`.
pub const SESSION_RESULT: &str = "http://citrix.com/delivery-services/1-0/sessionresult";
/// `launch`: answer of `.../launch/ica` (the launch data).
pub const LAUNCH: &str = "http://citrix.com/delivery-services/1-0/launch";
/// `endpoints`: the `{store}/endpoints/v1` document.
pub const ENDPOINTS: &str = "http://citrix.com/dazzleservices/2-0/endpoints";

/// Every namespace above; the reader maps a resolved URI onto one of these so that element
/// events carry a `&'static str` instead of an allocated copy of the URI.
pub const ALL: [&str; 6] = [
    SESSION_PARAMS,
    LAUNCH_PARAMS,
    SESSION_STATE,
    SESSION_RESULT,
    LAUNCH,
    ENDPOINTS,
];
