//! The ICA file the gateway hands a client after `RequestAddress` + `RequestTicket` against a
//! legacy farm (the file StoreFront would put in its launch data, citrix-protocols.md §2.2).
//!
//! Shape taken from the two open-source generators that build it from the same XML-service
//! answers (citrix-protocols.md §1.5): Extentrix WISP (`ICAGenerator.generateICAContent`) and
//! XenLauncher (`Resources/DefaultICA.txt`). Only the keys a launch needs are written; display
//! and device settings are left to the client's defaults. The file is INI text, so every value
//! is checked for what would start a new line or section.

/// What goes into one launch file.
pub struct IcaLaunch<'a> {
    /// The published application (`InName`): section name and initial program.
    pub title: &'a str,
    /// `ResponseAddress/ServerAddress`, e.g. `10.0.0.5:1494`.
    pub address: &'a str,
    /// `ResponseTicket/Ticket`.
    pub ticket: &'a str,
    /// `ResponseAddress/SSLRelayAddress` (`host:port`): the client goes through SSL Relay.
    pub ssl_relay_address: Option<&'a str>,
    /// `ResponseAddress/CGPAddress`: a port (`2598`) or `host:port`; session reliability.
    pub cgp_address: Option<&'a str>,
    /// Written as `[WFClient] ClientName=` so the session keeps the name workspace control knows.
    pub client_name: Option<&'a str>,
}

/// Why no file was written; names the field.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum IcaError {
    #[error("the {0} cannot go into an ICA file")]
    InvalidValue(&'static str),
}

/// Shortest ticket accepted: Extentrix splits it into `ClearPassword` (14 characters) and
/// `Domain` (the rest), so both parts must be non-empty.
const MIN_TICKET_CHARS: usize = 15;
const CLEAR_PASSWORD_CHARS: usize = 14;

/// The ICA file, CRLF line ends.
pub fn render(launch: &IcaLaunch<'_>) -> Result<String, IcaError> {
    let title = value(launch.title, "title")?;
    // The title is also a key (`[ApplicationServers]`) and a section name.
    if title.contains(['[', ']', '=']) || title.starts_with([';', '#']) {
        return Err(IcaError::InvalidValue("title"));
    }
    let address = value(launch.address, "address")?;
    let ticket = launch.ticket;
    if ticket.len() < MIN_TICKET_CHARS || !ticket.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(IcaError::InvalidValue("ticket"));
    }
    // ASCII was checked just above, so byte 14 is a character boundary.
    let (password, domain) = match (
        ticket.get(..CLEAR_PASSWORD_CHARS),
        ticket.get(CLEAR_PASSWORD_CHARS..),
    ) {
        (Some(p), Some(d)) => (p, d),
        _ => return Err(IcaError::InvalidValue("ticket")),
    };

    let mut lines: Vec<String> = vec!["[WFClient]".into(), "Version=2".into()];
    if let Some(name) = launch.client_name {
        lines.push(format!("ClientName={}", value(name, "client name")?));
    }
    lines.extend([
        String::new(),
        "[ApplicationServers]".into(),
        format!("{title}="),
        String::new(),
        format!("[{title}]"),
        format!("Address={address}"),
        format!("InitialProgram=#{title}"),
        format!("Title={title}"),
        "TransportDriver=TCP/IP".into(),
        "WinStationDriver=ICA 3.0".into(),
        // Both sources write LogonTicket (XenLauncher DefaultICA.txt, Extentrix ICAGenerator.cs);
        // LogonTicketType and the ClearPassword/Domain split are Extentrix's.
        format!("LogonTicket={ticket}"),
        "LogonTicketType=CTXS1".into(),
        format!("ClearPassword={password}"),
        format!("Domain=\\{domain}"),
    ]);
    if let Some(cgp) = launch.cgp_address {
        let cgp = value(cgp, "CGP address")?;
        // XenLauncher writes `CGPAddress=*:port`: any host, the one of `Address`.
        if cgp.bytes().all(|b| b.is_ascii_digit()) {
            lines.push(format!("CGPAddress=*:{cgp}"));
        } else {
            lines.push(format!("CGPAddress={cgp}"));
        }
    }
    if let Some(relay) = launch.ssl_relay_address {
        // Extentrix's SSL form.
        lines.push("SSLEnable=On".into());
        lines.push(format!(
            "SSLProxyHost={}",
            value(relay, "SSL relay address")?
        ));
    }
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    Ok(out)
}

/// A value that stays on its line: non-empty, trimmed the same as given, no control characters
/// (CR, LF and NUL among them).
fn value<'a>(v: &'a str, what: &'static str) -> Result<&'a str, IcaError> {
    if v.is_empty() || v.trim() != v || v.chars().any(char::is_control) {
        return Err(IcaError::InvalidValue(what));
    }
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests;
