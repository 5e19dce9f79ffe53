//! `X-Twilio-Signature`: how Twilio signs webhook requests, for signing (the emulator) and checking (our webhooks).
//!
//! The signed string is the full URL exactly as requested (scheme, userinfo, host with its case, port if any,
//! path, query), followed for form bodies by every parameter as `name + value`, names sorted by byte order and
//! a repeated name's values sorted. The signature is `base64(HMAC-SHA1(auth_token, signed string))`.
//!
//! Identical duplicate values: [`sign`] appends every value, so `Digits=1234&Digits=1234` contributes
//! `Digits1234Digits1234`, as the algorithm reads ("for repeated names append each value"). Twilio's SDK
//! validators (python, php) collapse identical duplicates instead, so [`verify`] accepts either form.
//!
//! JSON bodies are not signed as params: Twilio adds `bodySHA256=<hex sha256 of the body>` to the URL query and
//! signs the URL alone; [`verify_json`] checks both the hash and the signature.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use url::Url;

type HmacSha1 = Hmac<Sha1>;

/// base64(HMAC-SHA1(auth_token, url + for each param name sorted by byte order: name + value; repeated names: each value, values sorted)).
///
/// The URL is used exactly as given. Identical duplicate values are each appended (no de-duplication);
/// see the module docs.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let Some(mac) = keyed_mac(auth_token, url, params, false) else {
        return String::new();
    };
    STANDARD.encode(mac.finalize().into_bytes())
}

/// True when `signature` matches `url` (exactly as given) with `params`, or one of Twilio's port variants of the URL:
/// the URL with the default port (443 for https, 80 for http) inserted when it has none, or with its port removed when it has one.
/// Comparison is constant time (hmac's `Mac::verify_slice`, after base64-decoding the header; an undecodable header is false).
///
/// When a name repeats with identical values, both the all-values form ([`sign`]'s) and the de-duplicated
/// form (Twilio's SDKs') are accepted.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(tag) = STANDARD.decode(signature) else {
        return false;
    };
    let variant = port_variant(url);
    let urls = std::iter::once(url).chain(variant.as_deref());
    let dedup_forms: &[bool] = if has_identical_duplicates(params) {
        &[false, true]
    } else {
        &[false]
    };
    for candidate in urls {
        for &dedup in dedup_forms {
            if let Some(mac) = keyed_mac(auth_token, candidate, params, dedup)
                && mac.verify_slice(&tag).is_ok()
            {
                return true;
            }
        }
    }
    false
}

/// JSON bodies: Twilio appends `bodySHA256=<lowercase hex sha256 of the raw body>` to the URL query and signs the URL with no params.
/// True when the URL's bodySHA256 query parameter equals the body's hash AND the signature matches the URL (with port variants).
pub fn verify_json(
    auth_token: &str,
    url_with_body_hash: &str,
    body: &[u8],
    signature: &str,
) -> bool {
    let Ok(parsed) = Url::parse(url_with_body_hash) else {
        return false;
    };
    let Some(claimed) = parsed
        .query_pairs()
        .find_map(|(name, value)| (name == "bodySHA256").then_some(value))
    else {
        return false;
    };
    claimed == body_sha256_hex(body) && verify(auth_token, url_with_body_hash, &[], signature)
}

/// Lowercase hex SHA-256 of a body, as in the `bodySHA256` query parameter.
pub fn body_sha256_hex(body: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(body);
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// An HMAC-SHA1 keyed with the auth token that has absorbed the signed string. `None` only if the key were
/// rejected, which HMAC never does (any key length is valid).
fn keyed_mac(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    dedup: bool,
) -> Option<HmacSha1> {
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).ok()?;
    write_signed_string(url, params, dedup, |chunk| mac.update(chunk));
    Some(mac)
}

/// Feeds the signed string to `sink`: the URL, then `name + value` for each param sorted by name then value
/// (byte order). With `dedup`, identical (name, value) pairs are written once.
fn write_signed_string(
    url: &str,
    params: &[(String, String)],
    dedup: bool,
    mut sink: impl FnMut(&[u8]),
) {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    pairs.sort_unstable();
    if dedup {
        pairs.dedup();
    }
    sink(url.as_bytes());
    for (name, value) in pairs {
        sink(name.as_bytes());
        sink(value.as_bytes());
    }
}

fn has_identical_duplicates(params: &[(String, String)]) -> bool {
    let mut pairs: Vec<&(String, String)> = params.iter().collect();
    pairs.sort_unstable();
    pairs.windows(2).any(|w| w[0] == w[1])
}

/// The URL's port variant, edited in the original string so nothing else changes (host case, userinfo, path,
/// query): the default port (`:443` for https, `:80` for http) inserted after the host when the URL has no port,
/// or the port removed when it has one. `None` for URLs that do not parse, are not http(s), or whose authority
/// we cannot read unambiguously (our reading must agree with the `url` crate's).
fn port_variant(url: &str) -> Option<String> {
    let parsed = Url::parse(url).ok()?;
    let default_port: u16 = match parsed.scheme() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    parsed.host_str()?;

    // The authority must follow the scheme directly (`https:host` parses too, and a later `://` could be in the query).
    let scheme_end = url.find("://")?;
    if !url[..scheme_end].eq_ignore_ascii_case(parsed.scheme()) {
        return None;
    }
    let authority_start = scheme_end + "://".len();
    let after_scheme = &url[authority_start..];
    let authority_end = authority_start
        + after_scheme
            .find(['/', '?', '#', '\\'])
            .unwrap_or(after_scheme.len());
    let authority = &url[authority_start..authority_end];
    let host_start = authority_start + authority.rfind('@').map_or(0, |at| at + 1);
    let host_port = &url[host_start..authority_end];

    // A port is the digits after the last ':' that is not inside an IPv6 literal's brackets.
    let port_colon = host_port
        .rfind(':')
        .filter(|&colon| !host_port[colon..].contains(']'));
    match port_colon {
        Some(colon) => {
            let digits = &host_port[colon + 1..];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let port: u16 = digits.parse().ok()?;
            if parsed.port_or_known_default() != Some(port) {
                return None;
            }
            let colon_at = host_start + colon;
            Some(format!("{}{}", &url[..colon_at], &url[authority_end..]))
        }
        None => {
            if parsed.port().is_some() {
                return None;
            }
            Some(format!(
                "{}:{default_port}{}",
                &url[..authority_end],
                &url[authority_end..]
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12345";
    const U: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
    const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    /// P from TWILIO.md section 5, deliberately not in sorted order.
    fn p() -> Vec<(String, String)> {
        params(&[
            ("To", "+18005551212"),
            ("Digits", "1234"),
            ("CallSid", "CA1234567890ABCDE"),
            ("From", "+14158675309"),
            ("Caller", "+14158675309"),
        ])
    }

    fn signed_string(url: &str, params: &[(String, String)], dedup: bool) -> String {
        let mut out = Vec::new();
        write_signed_string(url, params, dedup, |chunk| out.extend_from_slice(chunk));
        String::from_utf8(out).expect("test strings are UTF-8")
    }

    fn digits_params(digits: &[&str]) -> Vec<(String, String)> {
        let mut pairs = vec![("Sid", "CA123"), ("SidAccount", "AC123")];
        pairs.extend(digits.iter().map(|d| ("Digits", *d)));
        params(&pairs)
    }

    fn sid(prefix: &str) -> String {
        format!("{prefix}{}", "a".repeat(32))
    }

    // --- sign: the official vectors ---

    #[test]
    fn vector_1_signs_the_base_url_with_form_params() {
        assert_eq!(sign(TOKEN, U, &p()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    #[test]
    fn vector_2_signs_the_https_url_with_an_explicit_443() {
        let url = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "kvajT1Ptam85bY51eRf/AJRuM3w=");
    }

    #[test]
    fn vector_3_signs_the_http_url_with_an_explicit_80() {
        let url = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "0ZXoZLH/DfblKGATFgpif+LLRf4=");
    }

    #[test]
    fn vector_4_signs_an_http_url_with_a_custom_port() {
        let url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
    }

    #[test]
    fn vector_5_signs_an_https_url_with_a_custom_port() {
        let url = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "CYn1h0gLBdNxDGkKJg6hYohgeD8=");
    }

    #[test]
    fn vector_6_signs_the_host_with_its_case_preserved() {
        let url = "https://MyCompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "g9IN/x4Cft2g517EjYvEvM/W7LU=");
    }

    #[test]
    fn vector_7_signs_a_mixed_case_host_with_a_custom_port() {
        let url = "https://MyCompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "PCqOZm8cnu/L6+u5i5fuEd+Iac4=");
    }

    #[test]
    fn vector_8_signs_http_userinfo_and_a_mixed_case_host() {
        let url = "http://username:password@MyCompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "PJ08CxXr7KLPjEQCTc8LkUSMwSM=");
    }

    #[test]
    fn vector_9_signs_https_userinfo() {
        let url = "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign(TOKEN, url, &p()), "CukzLTc1tT5dXEDIHm/tKBanW10=");
    }

    #[test]
    fn vector_10_signs_a_repeated_name_with_its_values_sorted() {
        let params = digits_params(&["5678", "1234"]);
        assert!(
            signed_string(U, &params, false)
                .ends_with("Digits1234Digits5678SidCA123SidAccountAC123")
        );
        assert_eq!(sign(TOKEN, U, &params), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn vector_11_signs_the_url_with_body_sha256_appended_and_no_params() {
        let url = format!("{U}&bodySHA256={BODY_HASH}");
        assert_eq!(sign(TOKEN, &url, &[]), "a9nBmqA0ju/hNViExpshrM61xv4=");
    }

    #[test]
    fn vector_12_signs_a_url_whose_only_query_is_body_sha256() {
        let url = format!("https://mycompany.com/myapp.php?bodySHA256={BODY_HASH}");
        assert_eq!(sign(TOKEN, &url, &[]), "y77kIzt2vzLz71DgmJGsen2scGs=");
    }

    #[test]
    fn the_conversations_webhook_vector_sorts_dotted_and_pascal_case_names_by_byte() {
        let url = "https://example.com/twilio/conversations/post?nb=42";
        let (account, conversation, message, service, participant) =
            (sid("AC"), sid("CH"), sid("IM"), sid("MG"), sid("MB"));
        let params = params(&[
            ("AccountSid", &account),
            ("EventType", "onMessageAdded"),
            ("Source", "SMS"),
            ("ConversationSid", &conversation),
            ("MessageSid", &message),
            ("MessagingServiceSid", &service),
            ("Index", "0"),
            ("Body", "Hi neighbors"),
            ("Author", "+15558675310"),
            ("ParticipantSid", &participant),
            ("Attributes", "{}"),
            ("DateCreated", "2024-01-01T00:00:00.000Z"),
        ]);
        assert_eq!(sign(TOKEN, url, &params), "TYWhge4IRSjpLgZuGc2aOfIJL8M=");
        assert!(verify(TOKEN, url, &params, "TYWhge4IRSjpLgZuGc2aOfIJL8M="));
    }

    #[test]
    fn a_dotted_name_sorts_before_a_longer_name_sharing_its_prefix() {
        let params = params(&[
            ("MessagingServiceSid", "MG1"),
            ("MessagingBinding.Address", "+1555"),
        ]);
        assert_eq!(
            signed_string("u", &params, false),
            "uMessagingBinding.Address+1555MessagingServiceSidMG1"
        );
    }

    #[test]
    fn body_sha256_hex_is_the_lowercase_hex_of_the_38_byte_body() {
        assert_eq!(BODY.len(), 38);
        assert_eq!(body_sha256_hex(BODY), BODY_HASH);
    }

    // --- verify: every vector, port variants ---

    #[test]
    fn verify_accepts_every_form_vector_for_the_url_it_was_signed_over() {
        let cases = [
            (U, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            (
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
            ),
            (
                "http://mycompany.com:80/myapp.php?foo=1&bar=2",
                "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            ),
            (
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            ),
            (
                "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
                "CYn1h0gLBdNxDGkKJg6hYohgeD8=",
            ),
            (
                "https://MyCompany.com/myapp.php?foo=1&bar=2",
                "g9IN/x4Cft2g517EjYvEvM/W7LU=",
            ),
            (
                "https://MyCompany.com:1234/myapp.php?foo=1&bar=2",
                "PCqOZm8cnu/L6+u5i5fuEd+Iac4=",
            ),
            (
                "http://username:password@MyCompany.com/myapp.php?foo=1&bar=2",
                "PJ08CxXr7KLPjEQCTc8LkUSMwSM=",
            ),
            (
                "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2",
                "CukzLTc1tT5dXEDIHm/tKBanW10=",
            ),
        ];
        for (url, signature) in cases {
            assert!(verify(TOKEN, url, &p(), signature), "{url}");
        }
        assert!(verify(
            TOKEN,
            U,
            &digits_params(&["5678", "1234"]),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        ));
    }

    #[test]
    fn a_signature_over_the_443_url_verifies_against_the_portless_url() {
        assert!(verify(TOKEN, U, &p(), "kvajT1Ptam85bY51eRf/AJRuM3w="));
    }

    #[test]
    fn a_signature_over_the_portless_url_verifies_against_the_443_url() {
        let url = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(verify(TOKEN, url, &p(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn a_signature_over_the_80_url_verifies_against_the_portless_http_url() {
        let url = "http://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(verify(TOKEN, url, &p(), "0ZXoZLH/DfblKGATFgpif+LLRf4="));
    }

    #[test]
    fn a_signature_over_the_portless_http_url_verifies_against_the_80_url() {
        let portless = "http://mycompany.com/myapp.php?foo=1&bar=2";
        let signature = sign(TOKEN, portless, &p());
        let url = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
        assert!(verify(TOKEN, url, &p(), &signature));
    }

    #[test]
    fn a_signature_over_the_portless_url_verifies_against_a_custom_port_url() {
        let url = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(verify(TOKEN, url, &p(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn a_custom_port_signature_does_not_verify_against_the_portless_url() {
        assert!(!verify(TOKEN, U, &p(), "CYn1h0gLBdNxDGkKJg6hYohgeD8="));
    }

    #[test]
    fn the_port_removed_variant_keeps_the_host_case() {
        let url = "https://MyCompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(verify(TOKEN, url, &p(), "g9IN/x4Cft2g517EjYvEvM/W7LU="));
    }

    #[test]
    fn the_host_case_is_part_of_the_signature() {
        let url = "https://MyCompany.com/myapp.php?foo=1&bar=2";
        assert!(!verify(TOKEN, url, &p(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn port_variants_edit_only_the_port_in_the_original_string() {
        let cases = [
            (U, Some("https://mycompany.com:443/myapp.php?foo=1&bar=2")),
            ("https://mycompany.com:443/myapp.php?foo=1&bar=2", Some(U)),
            ("http://MyCompany.com/a", Some("http://MyCompany.com:80/a")),
            (
                "https://MyCompany.com:1234/a",
                Some("https://MyCompany.com/a"),
            ),
            (
                "https://user:pass@Host.example/p",
                Some("https://user:pass@Host.example:443/p"),
            ),
            (
                "https://user:pass@Host.example:8443/p",
                Some("https://user:pass@Host.example/p"),
            ),
            (
                "https://Example.com?x=1",
                Some("https://Example.com:443?x=1"),
            ),
            ("https://Example.com", Some("https://Example.com:443")),
            ("https://[::1]/x", Some("https://[::1]:443/x")),
            ("https://[::1]:8443/x", Some("https://[::1]/x")),
            ("ftp://example.com/x", None),
            ("https:example.com/x?next=https://a.example:443/", None),
            ("HTTPS://Example.com:443/x", Some("HTTPS://Example.com/x")),
            ("not a url", None),
        ];
        for (url, expected) in cases {
            assert_eq!(port_variant(url).as_deref(), expected, "{url}");
        }
    }

    // --- verify: duplicates ---

    #[test]
    fn sign_counts_identical_duplicate_values_each_time() {
        let params = digits_params(&["5678", "1234", "1234"]);
        assert!(
            signed_string(U, &params, false)
                .ends_with("Digits1234Digits1234Digits5678SidCA123SidAccountAC123")
        );
        assert_ne!(sign(TOKEN, U, &params), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn verify_accepts_the_sdks_collapsed_duplicates_signature_for_the_php_case() {
        let params = digits_params(&["5678", "1234", "1234"]);
        assert!(verify(TOKEN, U, &params, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
    }

    #[test]
    fn verify_accepts_our_own_all_values_signature_for_duplicates() {
        let params = digits_params(&["5678", "1234", "1234"]);
        let signature = sign(TOKEN, U, &params);
        assert!(verify(TOKEN, U, &params, &signature));
    }

    // --- verify: rejections ---

    #[test]
    fn verify_rejects_a_wrong_token() {
        assert!(!verify("54321", U, &p(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn verify_rejects_a_changed_param_value() {
        let mut params = p();
        params[1].1 = "1235".to_owned();
        assert!(!verify(TOKEN, U, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn verify_rejects_an_added_param() {
        let mut params = p();
        params.push(("Extra".to_owned(), "1".to_owned()));
        assert!(!verify(TOKEN, U, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn verify_rejects_a_changed_url_path() {
        let url = "https://mycompany.com/other.php?foo=1&bar=2";
        assert!(!verify(TOKEN, url, &p(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn verify_rejects_a_garbage_or_empty_or_truncated_header() {
        for signature in [
            "not base64!!",
            "",
            "RSOYDt4T1cUT",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=AAAA",
        ] {
            assert!(!verify(TOKEN, U, &p(), signature), "{signature:?}");
        }
    }

    // --- verify_json ---

    #[test]
    fn verify_json_accepts_vectors_11_and_12_with_their_body() {
        let url_11 = format!("{U}&bodySHA256={BODY_HASH}");
        let url_12 = format!("https://mycompany.com/myapp.php?bodySHA256={BODY_HASH}");
        assert!(verify_json(
            TOKEN,
            &url_11,
            BODY,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(verify_json(
            TOKEN,
            &url_12,
            BODY,
            "y77kIzt2vzLz71DgmJGsen2scGs="
        ));
    }

    #[test]
    fn verify_json_accepts_a_port_variant_of_the_url() {
        let url = format!("https://mycompany.com:443/myapp.php?foo=1&bar=2&bodySHA256={BODY_HASH}");
        assert!(verify_json(
            TOKEN,
            &url,
            BODY,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }

    #[test]
    fn verify_json_rejects_a_different_body() {
        let url = format!("{U}&bodySHA256={BODY_HASH}");
        let other = br#"{"property": "value", "boolean": false}"#;
        assert!(!verify_json(
            TOKEN,
            &url,
            other,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }

    #[test]
    fn verify_json_rejects_a_url_without_body_sha256() {
        let signature = sign(TOKEN, U, &[]);
        assert!(verify(TOKEN, U, &[], &signature));
        assert!(!verify_json(TOKEN, U, BODY, &signature));
    }

    #[test]
    fn verify_json_rejects_a_wrong_token_or_garbage_header() {
        let url = format!("{U}&bodySHA256={BODY_HASH}");
        assert!(!verify_json(
            "54321",
            &url,
            BODY,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!verify_json(TOKEN, &url, BODY, "garbage"));
    }
}
