use super::*;

fn key(byte: u8) -> TagKey {
    TagKey::new(&[byte; 32]).unwrap()
}

const STORE: &str = "/Citrix/Store";
const LAUNCH: &str = "Controller.Notepad$P42";

#[test]
fn round_trip_for_both_pools_is_url_safe() {
    for pool in PoolName::ALL {
        let tag = seal(&key(1), STORE, LAUNCH, pool);
        assert_eq!(tag.len(), TAG_TEXT_LEN);
        assert!(tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
        assert_eq!(open(&key(1), STORE, LAUNCH, &tag), Some(pool));
        assert_eq!(tag, seal(&key(1), STORE, LAUNCH, pool), "deterministic");
    }
    assert!(seal(&key(1), STORE, LAUNCH, PoolName::Canary).starts_with("c."));
    assert!(seal(&key(1), STORE, LAUNCH, PoolName::Stable).starts_with("s."));
}

#[test]
fn wrong_store_id_or_key_does_not_open() {
    let tag = seal(&key(1), STORE, LAUNCH, PoolName::Canary);
    assert_eq!(open(&key(2), STORE, LAUNCH, &tag), None);
    assert_eq!(open(&key(1), "/Citrix/Other", LAUNCH, &tag), None);
    assert_eq!(open(&key(1), STORE, "Controller.Calc$P1", &tag), None);
    // Lengths are part of the message: moving a character between store and id changes it.
    let a = seal(&key(1), "/a/b", "c", PoolName::Canary);
    assert_eq!(open(&key(1), "/a/", "bc", &a), None);
}

#[test]
fn switching_the_pool_letter_or_altering_any_character_is_refused() {
    let tag = seal(&key(1), STORE, LAUNCH, PoolName::Stable);
    let switched = format!("c{}", &tag[1..]);
    assert_eq!(open(&key(1), STORE, LAUNCH, &switched), None);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.sc";
    for i in 0..tag.len() {
        for &c in alphabet {
            let mut forged = tag.clone().into_bytes();
            if forged[i] == c {
                continue;
            }
            forged[i] = c;
            let forged = String::from_utf8(forged).unwrap();
            assert_eq!(open(&key(1), STORE, LAUNCH, &forged), None, "{forged}");
        }
    }
}

#[test]
fn truncated_extended_and_garbage_never_open_nor_panic() {
    let tag = seal(&key(1), STORE, LAUNCH, PoolName::Canary);
    for n in 0..tag.len() {
        assert_eq!(open(&key(1), STORE, LAUNCH, &tag[..n]), None);
    }
    for bad in [
        format!("{tag}A"),
        format!("{tag}="),
        format!("{}=", &tag[..tag.len() - 1]),
        format!("x{}", &tag[1..]),
        "s".repeat(TAG_TEXT_LEN),
        "c.".to_string() + &"é".repeat(21) + "A",
        "c.".to_string() + &"\0".repeat(TAG_TEXT_LEN - 2),
        "\u{1F600}".repeat(11) + "c",
        String::new(),
        "A".repeat(100_000),
    ] {
        assert_eq!(open(&key(1), STORE, LAUNCH, &bad), None, "{bad:?}");
    }
    // Pseudo-random text of every length around the real one, ASCII and not.
    let mut x = 7u64;
    for len in 0..64 {
        for _ in 0..50 {
            let s: String = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from_u32((x % 0x200) as u32).unwrap_or('?')
                })
                .collect();
            assert_eq!(open(&key(1), STORE, LAUNCH, &s), None);
            assert_eq!(open(&key(1), STORE, LAUNCH, &format!("c.{s}")), None);
        }
    }
    // Non-ASCII store and launch ids work like any other text.
    let t = seal(&key(1), "/Citrix/Störe", "Société$1", PoolName::Canary);
    assert_eq!(
        open(&key(1), "/Citrix/Störe", "Société$1", &t),
        Some(PoolName::Canary)
    );
}

#[test]
fn short_keys_are_refused_and_debug_hides_the_key() {
    assert!(TagKey::new(&[7; 31]).is_none());
    assert!(TagKey::new(&[]).is_none());
    assert_eq!(format!("{:?}", key(0x41)), "TagKey(..)");
}
