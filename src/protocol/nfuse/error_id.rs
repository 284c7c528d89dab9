//! The `<ErrorId>` values an XML broker answers with (HTTP 200, inside the `Response*` element).
//!
//! Spellings are the brokers' own, mixed case included (`Ticketing-Disabled`), collected from
//! Extentrix's `WSConstants.ErrorMessages`, nmap's `citrixxml.lua` and XenLauncher's
//! `ICAControl.cs` (citrix-protocols.md §1.7). Reading ignores case, since nothing says a broker
//! keeps to one spelling.

/// One `ErrorId` value; [`ErrorId::Other`] for anything not in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorId {
    VersionMismatch,
    FailedCredentials,
    NoServer,
    MustChangeCredentials,
    ExpiredCredentials,
    AccountLockedOut,
    AccountDisabled,
    InvalidLogonHours,
    NoAltAddress,
    TicketingDisabled,
    GroupEnumerationDisabled,
    FolderEnumerationDisabled,
    MfserverOverloaded,
    NotTrusted,
    NotLicensed,
    ServiceUnavailable,
    NoAvailableWorkstation,
    RetryRequired,
    Unspecified,
    Other,
}

impl ErrorId {
    /// Every value, [`ErrorId::Other`] last (metric label sets are built from this).
    pub const ALL: [ErrorId; 20] = [
        ErrorId::VersionMismatch,
        ErrorId::FailedCredentials,
        ErrorId::NoServer,
        ErrorId::MustChangeCredentials,
        ErrorId::ExpiredCredentials,
        ErrorId::AccountLockedOut,
        ErrorId::AccountDisabled,
        ErrorId::InvalidLogonHours,
        ErrorId::NoAltAddress,
        ErrorId::TicketingDisabled,
        ErrorId::GroupEnumerationDisabled,
        ErrorId::FolderEnumerationDisabled,
        ErrorId::MfserverOverloaded,
        ErrorId::NotTrusted,
        ErrorId::NotLicensed,
        ErrorId::ServiceUnavailable,
        ErrorId::NoAvailableWorkstation,
        ErrorId::RetryRequired,
        ErrorId::Unspecified,
        ErrorId::Other,
    ];

    /// The value of an `<ErrorId>` text: surrounding whitespace and ASCII case are ignored;
    /// anything unknown is [`ErrorId::Other`].
    pub fn parse(s: &str) -> ErrorId {
        let s = s.trim();
        ErrorId::ALL
            .into_iter()
            .filter(|id| *id != ErrorId::Other)
            .find(|id| id.as_str().eq_ignore_ascii_case(s))
            .unwrap_or(ErrorId::Other)
    }

    /// The wire spelling; `"other"` for [`ErrorId::Other`]. Also a metric label, so it is a
    /// closed set.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorId::VersionMismatch => "version-mismatch",
            ErrorId::FailedCredentials => "failed-credentials",
            ErrorId::NoServer => "no-server",
            ErrorId::MustChangeCredentials => "must-change-credentials",
            ErrorId::ExpiredCredentials => "expired-credentials",
            ErrorId::AccountLockedOut => "account-locked-out",
            ErrorId::AccountDisabled => "account-disabled",
            ErrorId::InvalidLogonHours => "invalid-logon-hours",
            ErrorId::NoAltAddress => "no-alt-address",
            ErrorId::TicketingDisabled => "Ticketing-Disabled",
            ErrorId::GroupEnumerationDisabled => "GroupEnumeration-Disabled",
            ErrorId::FolderEnumerationDisabled => "FolderEnumeration-Disabled",
            ErrorId::MfserverOverloaded => "mfserver-overloaded",
            ErrorId::NotTrusted => "not-trusted",
            ErrorId::NotLicensed => "not-licensed",
            ErrorId::ServiceUnavailable => "service-unavailable",
            ErrorId::NoAvailableWorkstation => "no-available-workstation",
            ErrorId::RetryRequired => "retry-required",
            ErrorId::Unspecified => "unspecified",
            ErrorId::Other => "other",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn every_known_value_round_trips() {
        for id in ErrorId::ALL {
            assert_eq!(ErrorId::parse(id.as_str()), id, "{}", id.as_str());
        }
        let labels: std::collections::HashSet<_> =
            ErrorId::ALL.iter().map(|i| i.as_str()).collect();
        assert_eq!(labels.len(), ErrorId::ALL.len());
    }

    #[test]
    fn case_and_whitespace_are_ignored() {
        assert_eq!(
            ErrorId::parse("ticketing-disabled"),
            ErrorId::TicketingDisabled
        );
        assert_eq!(ErrorId::parse(" NOT-TRUSTED\r\n"), ErrorId::NotTrusted);
        assert_eq!(ErrorId::parse("Unspecified"), ErrorId::Unspecified);
    }

    #[test]
    fn unknown_is_other() {
        assert_eq!(ErrorId::parse("disk-on-fire"), ErrorId::Other);
        assert_eq!(ErrorId::parse(""), ErrorId::Other);
        // "other" is our label, not a wire value, but reading it back as Other is harmless.
        assert_eq!(ErrorId::parse("other"), ErrorId::Other);
        assert_eq!(ErrorId::parse("no server"), ErrorId::Other);
    }
}
