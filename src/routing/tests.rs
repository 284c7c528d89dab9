use super::*;
use crate::backend::storefront::Servers;
use crate::backend::Pool;
use crate::config::{self, Backend};
use crate::protocol::url::UrlMap;

fn router() -> Router {
    let c = config::from_yaml(
        r#"
stores:
  - path: /Citrix/Store
    public_url: https://w.example/Citrix/Store
    storefront: { upstreams: ["127.0.0.1:1"], upstream_path: /Citrix/Store }
  - path: /Citrix/Store2
    public_url: https://w.example/Citrix/Store2
    storefront: { upstreams: ["127.0.0.1:2"], upstream_path: /Citrix/Internal }
"#,
        "t",
    )
    .unwrap();
    Router::new(
        c.stores
            .into_iter()
            .map(|config| {
                let Backend::StoreFront(sf) = &config.backend else {
                    unreachable!("StoreFront stores only")
                };
                let servers = Servers {
                    settings: std::sync::Arc::new(sf.clone()),
                    pool: Pool::new(&[]).unwrap(),
                    canary: None,
                    url_map: UrlMap::new(&sf.upstreams, &sf.upstream_path, &config.public_url)
                        .unwrap(),
                    trust: None,
                    names: sf.upstreams.clone(),
                };
                Store {
                    upstreams: Upstreams::StoreFront(servers),
                    config,
                    rollout: None,
                }
            })
            .collect(),
    )
}

#[test]
fn stores_match_on_segment_boundaries() {
    let r = router();
    let hit = r.route("/Citrix/Store/sessions/v1/available").unwrap();
    assert_eq!(hit.store.config.name, "store");
    assert_eq!(hit.operation, Operation::ListSessions);
    assert_eq!(hit.rest, "sessions/v1/available");
    let hit = r.route("/citrix/store2/resources/v2?x=1").unwrap();
    assert_eq!(hit.store.config.name, "store2");
    assert_eq!(hit.rest, "resources/v2?x=1");
    assert_eq!(hit.operation, Operation::Passthrough);
    assert_eq!(r.route("/Citrix/Store").unwrap().rest, "");
    assert_eq!(r.route("/Citrix/Store?a").unwrap().rest, "?a");
    assert!(r.route("/Citrix/StoreWeb/").is_none());
    assert!(r.route("/").is_none());
    assert!(r.route("/Citrix").is_none());
}

#[test]
fn dot_segments_never_route() {
    let r = router();
    assert!(r.route("/Citrix/Store/../Other").is_none());
    assert!(r.route("/Citrix/Store/%2e%2E/Other").is_none());
    assert!(r.route("/Citrix/Store/./x").is_none());
    assert!(r.route("/Citrix/Store\\..\\x").is_none());
    assert!(r.route("/Citrix/Store/x?next=../y").is_some());
}

/// The in-place dot-segment check agrees with decoding `%2e`/`%2E` and comparing.
#[test]
fn dot_segment_check_matches_decoding() {
    let decoded = |s: &str| {
        let d = s.replace("%2e", ".").replace("%2E", ".");
        d == "." || d == ".."
    };
    for s in [
        "",
        ".",
        "..",
        "...",
        "%2e",
        "%2E",
        "%2e%2E",
        ".%2e",
        "%2e.",
        "%2e%2e%2e",
        "%2",
        "%2f",
        ".a",
        "a.",
        "%2%2ee",
        "%%2E2e",
        "..%2e",
        "x",
        "%2e.x",
        "%2E%2",
    ] {
        assert_eq!(super::is_dot_segment(s), decoded(s), "{s:?}");
    }
}
