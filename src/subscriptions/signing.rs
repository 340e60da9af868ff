//! How deliveries are signed, and how a receiver checks them (the README shows the same
//! procedure). The signature covers the timestamp and the body, so a receiver that refuses old
//! timestamps also refuses a captured request replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// `v1=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under the subscription's secret.
pub const SIGNATURE_HEADER: &str = "Freightdesk-Signature";
/// Seconds since the Unix epoch when this attempt was sent.
pub const TIMESTAMP_HEADER: &str = "Freightdesk-Timestamp";
/// The delivery's id: the same on every retry, for receivers to deduplicate.
pub const DELIVERY_HEADER: &str = "Freightdesk-Delivery";
/// The event type, so a receiver can route before parsing.
pub const EVENT_HEADER: &str = "Freightdesk-Event";

/// How far a timestamp may be from the receiver's clock by default (as Stripe's libraries do).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

const SCHEME: &str = "v1=";

pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("{SCHEME}{}", hex(&mac.finalize().into_bytes()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the timestamp header is not a number of seconds")]
    MalformedTimestamp,
    #[error("the timestamp is {0} s away from now: refused as a possible replay")]
    TooOld(i64),
    #[error("the signature does not match")]
    Mismatch,
}

/// What a receiver does: recompute the signature from the raw body and compare in constant
/// time, then refuse a timestamp further than `tolerance_secs` from `now`.
pub fn verify(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::MalformedTimestamp)?;
    let expected = sign(secret, ts, body);
    if !bool::from(expected.as_bytes().ct_eq(signature.trim().as_bytes())) {
        return Err(VerifyError::Mismatch);
    }
    let skew = (now - ts).abs();
    if skew > tolerance_secs {
        return Err(VerifyError::TooOld(skew));
    }
    Ok(())
}

/// A new secret: 32 random bytes, hex, with a prefix that says what it is.
pub fn generate_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)?;
    Ok(format!("whsec_{}", hex(&bytes)))
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_a_known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?". Here the data
        // is "{timestamp}.{body}", so split it at the first '.' the scheme puts in.
        let data = "what do ya want for nothing?";
        let mut mac = mac("Jefe");
        mac.update(data.as_bytes());
        assert_eq!(
            hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The README's Python procedure (hmac, hashlib) gives this for the same input.
        assert_eq!(
            sign("whsec_x", 1000, br#"{"event_type":"ShipmentPickedUp"}"#),
            "v1=5a8488900b3ba35cf9d48bb9e8e426ee433992ab8fbafce77b34fb6a2bdc5f18"
        );
        assert_eq!(sign("k", 12, b"{}"), sign("k", 12, b"{}"));
        assert_ne!(sign("k", 12, b"{}"), sign("k", 13, b"{}"));
        assert!(sign("k", 12, b"{}").starts_with("v1="));
    }

    #[test]
    fn verification_refuses_tampering_and_replays() {
        let body = br#"{"event_type":"ShipmentPickedUp"}"#;
        let signature = sign("whsec_x", 1_000, body);
        assert_eq!(
            verify("whsec_x", "1000", body, &signature, 1_100, 300),
            Ok(())
        );
        assert_eq!(
            verify("whsec_y", "1000", body, &signature, 1_000, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_x", "1000", b"{}", &signature, 1_000, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_x", "1001", body, &signature, 1_000, 300),
            Err(VerifyError::Mismatch),
            "the timestamp is signed too"
        );
        assert_eq!(
            verify("whsec_x", "1000", body, &signature, 1_301, 300),
            Err(VerifyError::TooOld(301))
        );
        assert_eq!(
            verify("whsec_x", "soon", body, &signature, 1_000, 300),
            Err(VerifyError::MalformedTimestamp)
        );
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let (a, b) = (generate_secret().unwrap(), generate_secret().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == 6 + 64);
    }
}
