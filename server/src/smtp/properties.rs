//! Property tests for host conversion, the address check, the reply classifier and reply
//! sanitizing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::{
    address_policy::{host_to_ascii, is_forbidden_address},
    classify::classify,
    failure::{FailureKind, Stage},
    reply::sanitize_reply,
    secret::{SecretString, SmtpCredentials},
};

/// IPv4 ranges that must be forbidden, as (network, prefix length).
const FORBIDDEN_V4: [([u8; 4], u32); 10] = [
    ([0, 0, 0, 0], 8),
    ([10, 0, 0, 0], 8),
    ([100, 64, 0, 0], 10),
    ([127, 0, 0, 0], 8),
    ([169, 254, 0, 0], 16),
    ([172, 16, 0, 0], 12),
    ([192, 168, 0, 0], 16),
    ([224, 0, 0, 0], 4),
    ([240, 0, 0, 0], 4),
    ([255, 255, 255, 255], 32),
];

fn forbidden_v4() -> impl Strategy<Value = Ipv4Addr> {
    (0..FORBIDDEN_V4.len(), any::<u32>()).prop_map(|(index, host_bits)| {
        let (network, prefix) = FORBIDDEN_V4[index];
        let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
        Ipv4Addr::from((u32::from(Ipv4Addr::from(network)) & mask) | (host_bits & !mask))
    })
}

/// Returns the IPv6 forms that carry `ip`: IPv4-mapped, IPv4-compatible, NAT64 (well-known and
/// local-use prefixes) and 6to4 with any subnet and interface bits.
fn ipv6_forms(ip: Ipv4Addr, subnet_bits: u128) -> [Ipv6Addr; 5] {
    let v4 = u128::from(u32::from(ip));
    let nat64_local = (0x0064_ff9b_0001_u128 << 80) | ((subnet_bits & 0xffff_ffff_ffff) << 32) | v4;
    let six_to_four = (0x2002_u128 << 112) | (v4 << 80) | (subnet_bits & ((1 << 80) - 1));
    [
        ip.to_ipv6_mapped(),
        ip.to_ipv6_compatible(),
        Ipv6Addr::from((0x0064_ff9b_u128 << 96) | v4),
        Ipv6Addr::from(nat64_local),
        Ipv6Addr::from(six_to_four),
    ]
}

fn stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        Just(Stage::Connecting),
        Just(Stage::Securing),
        Just(Stage::SigningIn),
        Just(Stage::Sending),
    ]
}

/// Host names made of valid labels, in ASCII or in a few scripts.
fn valid_host_name() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        "[a-z][a-z0-9]{0,20}",
        "[a-z]{1,3}-[a-z0-9]{1,10}",
        "[äéöüçß]{1,3}[a-z]{0,5}",
        "[а-я]{1,10}",
        "[α-ω]{1,8}"
    ];
    (proptest::collection::vec(label, 1..4), "[a-z]{2,6}")
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

proptest! {
    #[test]
    fn host_to_ascii_output_is_clean_ascii(input in any::<String>()) {
        if let Some(ascii) = host_to_ascii(&input) {
            prop_assert!(ascii.is_ascii(), "{ascii:?}");
            prop_assert!(!ascii.is_empty());
            prop_assert!(!ascii.chars().any(|c| c.is_ascii_whitespace() || c.is_ascii_control()), "{ascii:?}");
            prop_assert!(!ascii.contains(['/', '@', '%', '[', ']']), "{ascii:?}");
            prop_assert_eq!(host_to_ascii(&ascii), Some(ascii.clone()));
        }
    }

    #[test]
    fn host_to_ascii_handles_tricky_pieces(pieces in proptest::collection::vec(prop_oneof![
        Just("."), Just(":"), Just("["), Just("]"), Just("%"), Just(" "), Just("\r\n"), Just("\0"),
        Just("0x"), Just("127"), Just("1"), Just("xn--"), Just("ä"), Just("-"), Just("ff"),
    ], 0..10)) {
        let input = pieces.concat();

        if let Some(ascii) = host_to_ascii(&input) {
            prop_assert!(ascii.is_ascii() && !ascii.contains([' ', '\r', '\n', '\0', '%']), "{input:?} -> {ascii:?}");
        }
    }

    #[test]
    fn valid_names_round_trip(name in valid_host_name()) {
        let ascii = host_to_ascii(&name).expect("a valid name converts");

        prop_assert!(ascii.is_ascii());
        let (unicode, result) = idna::domain_to_unicode(&ascii);
        prop_assert!(result.is_ok());
        prop_assert_eq!(unicode, name.clone());
        prop_assert_eq!(host_to_ascii(&format!("{}.", name.to_ascii_uppercase())), Some(ascii.clone()), "upper case and a trailing dot");
    }

    #[test]
    fn forbidden_v4_is_forbidden_in_every_form(ip in forbidden_v4(), subnet_bits in any::<u128>()) {
        prop_assert!(is_forbidden_address(IpAddr::V4(ip)), "{ip}");
        for form in ipv6_forms(ip, subnet_bits) {
            prop_assert!(is_forbidden_address(IpAddr::V6(form)), "{ip} as {form}");
        }
    }

    #[test]
    fn ipv6_forms_match_their_ipv4(ip in any::<u32>().prop_map(Ipv4Addr::from), subnet_bits in any::<u128>()) {
        let forbidden = is_forbidden_address(IpAddr::V4(ip));

        for form in ipv6_forms(ip, subnet_bits) {
            // `::a.b.c.d` for 0.0.0.0 and 0.0.0.1 are `::` and `::1`, which are forbidden anyway.
            prop_assert_eq!(is_forbidden_address(IpAddr::V6(form)), forbidden, "{} as {}", ip, form);
        }
    }

    #[test]
    fn numeric_hosts_are_checked_as_ipv4(ip in forbidden_v4()) {
        let decimal = u32::from(ip).to_string();
        let hex = format!("0x{:x}", u32::from(ip));
        let [a, b, c, d] = ip.octets();
        let octal = format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}");

        for spelling in [decimal, hex, octal] {
            prop_assert_eq!(host_to_ascii(&spelling), Some(ip.to_string()), "{}", spelling);
        }
    }

    #[test]
    fn classify_never_panics(stage in stage(), code in proptest::option::of(0u16..1000), text in any::<String>()) {
        let _ = classify(stage, code, &text);
    }

    #[test]
    fn classify_4xx_is_temporary(stage in stage(), code in 400u16..500, text in any::<String>()) {
        prop_assert_eq!(classify(stage, Some(code), &text), FailureKind::Temporary);
    }

    #[test]
    fn classify_5xx_is_not_temporary(stage in stage(), code in 500u16..600, text in any::<String>()) {
        let kind = classify(stage, Some(code), &text);

        prop_assert_ne!(kind, FailureKind::Temporary);
        prop_assert_ne!(kind, FailureKind::Timeout);
        prop_assert_ne!(kind, FailureKind::Network);
    }

    #[test]
    fn sanitized_reply_hides_the_password(
        password in "[!-)+-~]{1,12}( [!-)+-~]{1,12})?",
        before in any::<String>(),
        after in any::<String>(),
        separator in prop_oneof![Just(""), Just(" "), Just("\r\n"), Just("\t")],
    ) {
        let credentials = SmtpCredentials::Password { username: "ada@example.org".to_owned(), password: SecretString::new(&password) };
        let echoed = password.replace(' ', &format!("{separator} "));
        let text = format!("535 {before}{separator}{echoed}{separator}{after}");

        let Some(reply) = sanitize_reply(&text, Some(&credentials)) else {
            return Ok(());
        };

        prop_assert!(reply.chars().count() <= 500);
        prop_assert!(!reply.chars().any(char::is_control), "{reply:?}");
        prop_assert!(!reply.contains(&password), "{text:?} -> {reply:?}");
    }
}
