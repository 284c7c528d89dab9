//! The simulated farm's reconnaissance surface: what it publishes (`RequestAppData`), its
//! servers (`RequestServerData`) and what its XML service can do (`RequestCapabilities`), written
//! in the shapes real clients parse.
//!
//! nmap's `citrixxml.lua` reads these with Lua patterns, not an XML parser, so the shapes are
//! exact: `<AppData>` without attributes (its pattern is `<AppData>(.-)</AppData>`), `FName`,
//! `Settings` with `appisdisabled`/`appisdesktop`, `Encryption minimum="…"`, `AppOnDesktop
//! value="…"/` and `AccessList` with `User`/`Group` holding `UserName`/`GroupName` and `Domain`
//! (citrix-protocols.md §1.6, §1.8); `<ServerName>` and `<CapabilityId>` as plain leaves.

use std::io;

use quick_xml::events::BytesText;

use super::documents::envelope;
use crate::protocol::xml::{self, XmlWriter};

/// The group every published application is assigned to.
pub(super) const APP_GROUP: (&str, &str) = ("CORP", "Domain Users");
/// The capabilities the simulated XML service announces (PS 4.5 FP1's list plus
/// `user-identity`, XA6's).
const CAPABILITIES: [&str; 4] = [
    "separate-credentials-validation",
    "launch-reference",
    "integrated-authentication",
    "user-identity",
];

/// `ResponseAppData`: one `AppData` per application, with its ACL when `access_list`.
pub(super) fn app_data_document(pre_xd7: bool, apps: &[String], access_list: bool) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseAppData")
            .write_inner_content(|w| {
                w.create_element("AppDataSet")
                    .write_inner_content(|w| {
                        apps.iter()
                            .try_for_each(|app| application(w, app, access_list))
                    })
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

fn application(w: &mut XmlWriter, app: &str, access_list: bool) -> io::Result<()> {
    w.create_element("AppData")
        .write_inner_content(|w| {
            xml::text_element(w, "InName", app)?;
            xml::text_element(w, "FName", app)?;
            w.create_element("Details").write_inner_content(|w| {
                settings(w)?;
                if access_list {
                    acl(w)?;
                }
                Ok(())
            })?;
            xml::text_element(w, "SeqNo", "1")?;
            xml::text_element(w, "ServerType", "win32")?;
            xml::text_element(w, "ClientType", "ica30")
        })
        .map(|_| ())
}

fn settings(w: &mut XmlWriter) -> io::Result<()> {
    w.create_element("Settings")
        .with_attribute(("appisdisabled", "false"))
        .with_attribute(("appisdesktop", "false"))
        .write_inner_content(|w| {
            w.create_element("Encryption")
                .with_attribute(("minimum", "false"))
                .write_text_content(BytesText::new("basic"))?;
            w.create_element("AppOnDesktop")
                .with_attribute(("value", "false"))
                .write_empty()?;
            w.create_element("AppInStartmenu")
                .with_attribute(("value", "true"))
                .write_empty()?;
            xml::text_element(w, "PublisherName", "sessiongate simulator")?;
            xml::text_element(w, "SSLEnabled", "false")?;
            xml::text_element(w, "RemoteAccessEnabled", "false")
        })
        .map(|_| ())
}

fn acl(w: &mut XmlWriter) -> io::Result<()> {
    let (domain, group) = APP_GROUP;
    w.create_element("AccessList")
        .write_inner_content(|w| {
            w.create_element("Group")
                .write_inner_content(|w| {
                    xml::text_element(w, "GroupName", group)?;
                    xml::text_element(w, "Domain", domain)
                })
                .map(|_| ())
        })
        .map(|_| ())
}

/// `ResponseServerData`: one `ServerData` per server.
pub(super) fn server_data_document(pre_xd7: bool, servers: &[String]) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseServerData")
            .write_inner_content(|w| {
                servers.iter().try_for_each(|name| {
                    w.create_element("ServerData")
                        .write_inner_content(|w| {
                            xml::text_element(w, "ServerName", name)?;
                            xml::text_element(w, "ServerType", "win32")?;
                            xml::text_element(w, "ClientType", "ica30")
                        })
                        .map(|_| ())
                })
            })
            .map(|_| ())
    })
}

/// `ResponseCapabilities`: one `CapabilityId` per capability.
pub(super) fn capabilities_document(pre_xd7: bool) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseCapabilities")
            .write_inner_content(|w| {
                CAPABILITIES
                    .iter()
                    .try_for_each(|c| xml::text_element(w, "CapabilityId", c))
            })
            .map(|_| ())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn shapes_nmap_parses() {
        let doc = String::from_utf8(app_data_document(false, &["Notepad".into()], true)).unwrap();
        assert!(
            doc.contains("<AppData><InName>Notepad</InName><FName>Notepad</FName>"),
            "{doc}"
        );
        assert!(doc.contains("<Settings appisdisabled=\"false\" appisdesktop=\"false\"><Encryption minimum=\"false\">basic</Encryption><AppOnDesktop value=\"false\"/>"), "{doc}");
        assert!(doc.contains("<AccessList><Group><GroupName>Domain Users</GroupName><Domain>CORP</Domain></Group></AccessList>"), "{doc}");
        let doc = String::from_utf8(server_data_document(false, &["XA65-01".into()])).unwrap();
        assert!(doc.contains("<ServerName>XA65-01</ServerName>"));
        let doc = String::from_utf8(capabilities_document(false)).unwrap();
        assert!(doc.contains("<CapabilityId>launch-reference</CapabilityId>"));
    }
}
