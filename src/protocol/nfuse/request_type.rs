//! Every NFuse request type a client may send to an XML service, as the relay tells them apart:
//! the `Request*` element, its `Response*` answer, the metric label, and whether the farm changes
//! anything when it answers (what decides failover to a second broker).

/// One request type; [`RequestType::Other`] for any `Request*` element not listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestType {
    AppData,
    ServerData,
    ServerFarmData,
    Capabilities,
    ProtocolInfo,
    ValidateCredentials,
    ReconnectSessionData,
    DisconnectUserSessions,
    LogoffUserSessions,
    Address,
    Ticket,
    LaunchRef,
    Other,
}

impl RequestType {
    /// Every value, [`RequestType::Other`] last (metric label sets are built from this).
    pub const ALL: [RequestType; 13] = [
        RequestType::AppData,
        RequestType::ServerData,
        RequestType::ServerFarmData,
        RequestType::Capabilities,
        RequestType::ProtocolInfo,
        RequestType::ValidateCredentials,
        RequestType::ReconnectSessionData,
        RequestType::DisconnectUserSessions,
        RequestType::LogoffUserSessions,
        RequestType::Address,
        RequestType::Ticket,
        RequestType::LaunchRef,
        RequestType::Other,
    ];

    /// The type of a `Request*` element (exact spelling: element names are case-sensitive).
    pub fn of_element(local: &str) -> RequestType {
        RequestType::ALL
            .into_iter()
            .filter(|t| *t != RequestType::Other)
            .find(|t| t.suffix() == local.strip_prefix("Request").unwrap_or_default())
            .unwrap_or(RequestType::Other)
    }

    /// The element name without its `Request`/`Response` prefix.
    fn suffix(self) -> &'static str {
        match self {
            RequestType::AppData => "AppData",
            RequestType::ServerData => "ServerData",
            RequestType::ServerFarmData => "ServerFarmData",
            RequestType::Capabilities => "Capabilities",
            RequestType::ProtocolInfo => "ProtocolInfo",
            RequestType::ValidateCredentials => "ValidateCredentials",
            RequestType::ReconnectSessionData => "ReconnectSessionData",
            RequestType::DisconnectUserSessions => "DisconnectUserSessions",
            RequestType::LogoffUserSessions => "LogoffUserSessions",
            RequestType::Address => "Address",
            RequestType::Ticket => "Ticket",
            RequestType::LaunchRef => "LaunchRef",
            RequestType::Other => "",
        }
    }

    /// The `Response*` element answering this type; a bare `Response` for [`RequestType::Other`]
    /// (the relay never echoes an element name it did not recognise).
    pub fn response_element(self) -> String {
        format!("Response{}", self.suffix())
    }

    /// Metric label (closed set).
    pub fn label(self) -> &'static str {
        match self {
            RequestType::AppData => "app_data",
            RequestType::ServerData => "server_data",
            RequestType::ServerFarmData => "server_farm_data",
            RequestType::Capabilities => "capabilities",
            RequestType::ProtocolInfo => "protocol_info",
            RequestType::ValidateCredentials => "validate_credentials",
            RequestType::ReconnectSessionData => "reconnect_session_data",
            RequestType::DisconnectUserSessions => "disconnect_user_sessions",
            RequestType::LogoffUserSessions => "logoff_user_sessions",
            RequestType::Address => "address",
            RequestType::Ticket => "ticket",
            RequestType::LaunchRef => "launch_ref",
            RequestType::Other => "other",
        }
    }

    /// Asks about the farm rather than a user: what an unauthenticated scanner sends.
    pub fn is_reconnaissance(self) -> bool {
        matches!(
            self,
            RequestType::ServerData
                | RequestType::ServerFarmData
                | RequestType::Capabilities
                | RequestType::ProtocolInfo
        )
    }

    /// The farm changes nothing when it answers, so a request that may have reached one broker
    /// can be sent to the next. `RequestValidateCredentials` is not: a failed logon counts
    /// towards the account's lockout, and must not be counted twice. `RequestReconnectSessionData`
    /// is decided by the caller (asking for active sessions disconnects them before XD7).
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            RequestType::AppData
                | RequestType::ServerData
                | RequestType::ServerFarmData
                | RequestType::Capabilities
                | RequestType::ProtocolInfo
                | RequestType::Address
        )
    }
}
