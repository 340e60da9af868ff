//! Parsed input types: once a value of one of these types exists it is valid, so the
//! command handlers and the store never see untrimmed, empty or out-of-range input.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A refused input: which field, and what is wrong with it, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShipmentId(Uuid);

impl ShipmentId {
    pub fn generate() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Uuid::parse_str(input.trim())
            .map(Self)
            .map_err(|_| FieldError::new("shipment_id", "is not a valid shipment id (a UUID)"))
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ShipmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Trimmed, non-empty text of bounded length (counted in characters, not bytes).
fn bounded_text(field: &str, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    let chars = trimmed.chars().count();
    if chars > max_chars {
        return Err(FieldError::new(
            field,
            format!("is too long ({chars} characters, at most {max_chars})"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// A place: an origin, a destination or a recorded location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlaceName(String);

impl PlaceName {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        bounded_text(field, input, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CancelReason(String);

impl CancelReason {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        bounded_text("reason", input, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free-text notes on a location report; empty input means "no notes".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Notes(String);

impl Notes {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse_optional(input: &str) -> Result<Option<Self>, FieldError> {
        if input.trim().is_empty() {
            return Ok(None);
        }
        bounded_text("notes", input, Self::MAX_CHARS).map(|s| Some(Self(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A WGS84 position; both halves are given or neither.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    lat: f64,
    lon: f64,
}

/// A decimal number typed with either separator: "47.55" or "47,55" (as dispatchers in the
/// Netherlands, Germany or Italy write it). One separator at most, so "1,000.5" is refused
/// rather than guessed at.
fn decimal(text: &str) -> Option<f64> {
    let separators = text.chars().filter(|c| matches!(c, '.' | ',')).count();
    if separators > 1 {
        return None;
    }
    text.replace(',', ".").parse::<f64>().ok()
}

impl Coordinates {
    pub fn new(lat: f64, lon: f64) -> Result<Self, FieldError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new("lat", "must be between -90 and 90"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(FieldError::new("lon", "must be between -180 and 180"));
        }
        Ok(Self { lat, lon })
    }

    /// Parses the two form fields; both empty means "no position".
    pub fn parse_optional(lat: &str, lon: &str) -> Result<Option<Self>, FieldError> {
        let (lat, lon) = (lat.trim(), lon.trim());
        match (lat.is_empty(), lon.is_empty()) {
            (true, true) => Ok(None),
            (false, true) => Err(FieldError::new(
                "lon",
                "is required when a latitude is given",
            )),
            (true, false) => Err(FieldError::new(
                "lat",
                "is required when a longitude is given",
            )),
            (false, false) => {
                let lat = decimal(lat).ok_or_else(|| FieldError::new("lat", "is not a number"))?;
                let lon = decimal(lon).ok_or_else(|| FieldError::new("lon", "is not a number"))?;
                Self::new(lat, lon).map(Some)
            }
        }
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_names_are_trimmed_and_bounded() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("  Rotterdam ", Ok("Rotterdam")),
            ("", Err("is required")),
            ("   ", Err("is required")),
            ("a\u{0}b", Err("must not contain control characters")),
        ];
        for (input, expected) in cases {
            let got = PlaceName::parse("origin", input);
            match expected {
                Ok(s) => assert_eq!(got.unwrap().as_str(), *s),
                Err(m) => assert_eq!(got.unwrap_err().message, *m),
            }
        }
        let long = "x".repeat(PlaceName::MAX_CHARS + 1);
        assert!(PlaceName::parse("origin", &long)
            .unwrap_err()
            .message
            .contains("too long"));
        let max = "é".repeat(PlaceName::MAX_CHARS);
        assert!(
            PlaceName::parse("origin", &max).is_ok(),
            "limit counts characters"
        );
    }

    #[test]
    fn either_decimal_separator_is_a_decimal_point() {
        let cases = [
            ("47.55", Some(47.55)),
            ("47,55", Some(47.55)),
            ("-7,5", Some(-7.5)),
            ("12", Some(12.0)),
            ("1,000.5", None),
            ("1.000,5", None),
            ("4,5,6", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(decimal(text), want, "{text}");
        }
    }

    #[test]
    fn coordinates_are_range_checked() {
        type Case<'a> = (&'a str, &'a str, Result<Option<(f64, f64)>, &'a str>);
        let cases: &[Case] = &[
            ("", "", Ok(None)),
            ("51.9", "4.48", Ok(Some((51.9, 4.48)))),
            ("47,55", "7,59", Ok(Some((47.55, 7.59)))),
            ("90", "-180", Ok(Some((90.0, -180.0)))),
            ("90.1", "0", Err("lat")),
            ("0", "180.5", Err("lon")),
            ("abc", "0", Err("lat")),
            ("1", "", Err("lon")),
            ("", "1", Err("lat")),
            ("NaN", "0", Err("lat")),
        ];
        for (lat, lon, expected) in cases {
            let got = Coordinates::parse_optional(lat, lon);
            match expected {
                Ok(None) => assert_eq!(got, Ok(None)),
                Ok(Some((a, b))) => {
                    let c = got.unwrap().unwrap();
                    assert_eq!((c.lat(), c.lon()), (*a, *b));
                }
                Err(field) => assert_eq!(got.unwrap_err().field, *field, "{lat},{lon}"),
            }
        }
    }

    #[test]
    fn shipment_ids_must_be_uuids() {
        assert!(ShipmentId::parse("not-an-id").is_err());
        let id = ShipmentId::generate();
        assert_eq!(ShipmentId::parse(&id.to_string()).unwrap(), id);
    }
}
