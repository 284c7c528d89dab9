use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// Device-id-like keys: what real clients send (a GUID-ish string with a counter).
fn keys(n: u32) -> Vec<ClientKey> {
    (0..n)
        .map(|i| ClientKey::derive(Some(&format!("device-{i:08}")), None, None, None).0)
        .collect()
}

fn canary_count(share: Share, keys: &[ClientKey]) -> usize {
    keys.iter()
        .filter(|&&k| choose(share, k) == PoolName::Canary)
        .count()
}

#[test]
fn share_is_met_within_one_point_over_100k_keys() {
    let keys = keys(100_000);
    for p in [0.5, 1.0, 5.0, 10.0, 33.3, 50.0, 90.0, 99.0] {
        let share = Share::from_percent(p).unwrap();
        let got = canary_count(share, &keys) as f64 * 100.0 / keys.len() as f64;
        println!("share {p:>5} %: {got:.3} % of 100,000 keys in the canary");
        assert!((got - p).abs() <= 1.0, "share {p} %: got {got} %");
    }
}

#[test]
fn raising_the_share_never_moves_a_key_out_of_the_canary() {
    let keys = keys(20_000);
    let mut before = vec![false; keys.len()];
    for step in 0..=100 {
        let share = Share::from_percent(f64::from(step)).unwrap();
        for (k, was) in keys.iter().zip(before.iter_mut()) {
            let now = choose(share, *k) == PoolName::Canary;
            assert!(now || !*was, "a key left the canary at {step} %");
            *was = now;
        }
    }
    // Fractional steps too (0.1 % apart over the first 2 %).
    let mut prev = 0;
    for tenth in 0..=20 {
        let share = Share::from_percent(f64::from(tenth) / 10.0).unwrap();
        let n = canary_count(share, &keys);
        assert!(n >= prev);
        prev = n;
    }
}

#[test]
fn zero_never_and_full_always() {
    let mut keys = keys(10_000);
    keys.extend([ClientKey(0), ClientKey(u64::MAX), ClientKey(1 << 63)]);
    for k in keys {
        assert_eq!(choose(Share::ZERO, k), PoolName::Stable);
        assert_eq!(choose(Share::FULL, k), PoolName::Canary);
        assert_eq!(
            choose(Share::from_percent(100.0).unwrap(), k),
            PoolName::Canary
        );
    }
}

#[test]
fn golden_values_pin_the_hash_across_restarts_and_releases() {
    // Changing any of these moves live clients between pools: only ever on purpose. The values
    // were computed by an independent implementation (a few lines of Python) of the same hash.
    let cases: [(ClientKey, u64); 6] = [
        (
            ClientKey::derive(Some("WR_7c2b0e4a"), None, None, None).0,
            0x072d_932f_1890_36c8,
        ),
        (
            ClientKey::derive(None, Some("LAPTOP-42"), None, None).0,
            0xc890_8627_8428_8a07,
        ),
        (
            ClientKey::derive(None, None, Some("token-abc"), None).0,
            0x66b7_608e_ab6b_1e00,
        ),
        (
            ClientKey::derive(
                None,
                None,
                None,
                Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))),
            )
            .0,
            0x997e_e31c_99ae_13df,
        ),
        (ClientKey::from_bytes(b""), 0xff06_1f74_8ac0_ac45),
        (ClientKey::from_bytes(b"sessiongate"), 0x39a5_c99d_d02f_82e3),
    ];
    for (i, (key, want)) in cases.iter().enumerate() {
        assert_eq!(key.value(), *want, "case {i}: {:#018x}", key.value());
    }
    // And their ring positions (what decides the pool).
    let positions: Vec<u32> = cases.iter().map(|(k, _)| k.position()).collect();
    assert_eq!(
        positions,
        [28_039, 783_455, 401_235, 599_592, 996_187, 225_185]
    );
}

#[test]
fn key_order_and_domains() {
    let ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    let all = ClientKey::derive(Some("d"), Some("n"), Some("t"), ip);
    assert_eq!(all.1, KeySource::DeviceId);
    assert_eq!(
        ClientKey::derive(None, Some("n"), Some("t"), ip).1,
        KeySource::ClientName
    );
    assert_eq!(
        ClientKey::derive(None, None, Some("t"), ip).1,
        KeySource::Token
    );
    assert_eq!(
        ClientKey::derive(None, None, None, ip).1,
        KeySource::Address
    );
    assert_eq!(
        ClientKey::derive(None, None, None, None).1,
        KeySource::Address
    );
    // Empty strings are absent.
    assert_eq!(
        ClientKey::derive(Some(""), Some(""), Some("t"), ip).1,
        KeySource::Token
    );
    // The same text from two sources is two keys.
    let d = ClientKey::derive(Some("same"), None, None, None).0;
    let n = ClientKey::derive(None, Some("same"), None, None).0;
    let t = ClientKey::derive(None, None, Some("same"), None).0;
    assert!(d != n && n != t && d != t && d != ClientKey::from_bytes(b"same"));
    // An IPv4-mapped IPv6 address is its IPv4 address.
    let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped());
    assert_eq!(
        ClientKey::derive(None, None, None, Some(mapped)).0,
        ClientKey::derive(None, None, None, ip).0
    );
    assert_ne!(
        ClientKey::derive(None, None, None, Some(IpAddr::V6(Ipv6Addr::LOCALHOST))).0,
        ClientKey::derive(None, None, None, ip).0
    );
}

#[test]
fn share_conversions() {
    assert_eq!(Share::from_percent(0.5).unwrap().ppm(), 5_000);
    assert_eq!(Share::from_percent(0.0001).unwrap().ppm(), 1);
    assert_eq!(Share::from_percent(100.0), Some(Share::FULL));
    assert_eq!(Share::from_percent(0.0), Some(Share::ZERO));
    assert_eq!(Share::from_percent(-0.0), Some(Share::ZERO));
    for bad in [-0.001, 100.0001, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(Share::from_percent(bad), None, "{bad}");
    }
    assert_eq!(Share::from_percent(12.5).unwrap().percent(), 12.5);
    assert_eq!(Share::from_ppm(RING), Some(Share::FULL));
    assert_eq!(Share::from_ppm(RING + 1), None);
    assert!(Share::from_percent(5.0) < Share::from_percent(10.0));
    assert_eq!(Share::default(), Share::ZERO);
}

#[test]
fn cookie_round_trip_and_strict_parsing() {
    for k in keys(1_000)
        .into_iter()
        .chain([ClientKey(0), ClientKey(u64::MAX)])
    {
        let c = k.to_cookie();
        assert_eq!(c.len(), COOKIE_LEN);
        assert!(c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        assert_eq!(ClientKey::from_cookie(&c), Some(k));
    }
    let good = ClientKey(0x0123_4567_89ab_cdef).to_cookie();
    assert_eq!(good, "k1-0123456789abcdef");
    for bad in [
        "",
        "k1-",
        "k1-0123456789ABCDEF",
        "k1-0123456789abcde",
        "k1-0123456789abcdef0",
        "k2-0123456789abcdef",
        "K1-0123456789abcdef",
        "k1-+123456789abcdef",
        "k1--123456789abcdef",
        "k1-0123456789abcdeg",
        " k1-0123456789abcde",
        "k1-0123456789abcdé",
        "k1-0123456789abc\0ef",
        "0123456789abcdef",
    ] {
        assert_eq!(ClientKey::from_cookie(bad), None, "{bad:?}");
    }
}

#[test]
fn hostile_cookie_text_never_panics() {
    // Every string of up to 3 bytes from an awkward alphabet, then long and non-ASCII garbage
    // (multi-byte characters straddling the prefix and length checks).
    let alphabet = ["", "k", "1", "-", "é", "\u{1F600}", "\0", "f", "%", " "];
    for a in alphabet {
        for b in alphabet {
            for c in alphabet {
                let s = format!("{a}{b}{c}");
                assert_eq!(ClientKey::from_cookie(&s), None, "{s:?}");
            }
        }
    }
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for len in 0..64 {
        for _ in 0..50 {
            let s: String = (0..len)
                .map(|_| {
                    x = splitmix64_finalise(x.wrapping_add(0x9e37_79b9_7f4a_7c15));
                    char::from_u32((x % 0x3000) as u32).unwrap_or('?')
                })
                .collect();
            let with_prefix = format!("k1-{s}");
            let _ = ClientKey::from_cookie(&s);
            let _ = ClientKey::from_cookie(&with_prefix);
        }
    }
    assert_eq!(ClientKey::from_cookie(&"k1-é".repeat(4)), None);
}
