//! User names and display names: once parsed they are valid, so the repositories never see
//! untrimmed, oversized or odd input. Pure, so forms in the browser can check them too.

use crate::domain::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A sign-in name: 1–64 characters of `a-z 0-9 . _ -`, stored lowercased so `Ana` and `ana`
/// are one person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim().to_lowercase();
        if name.is_empty() {
            return Err(FieldError::new("name", "is required"));
        }
        let chars = name.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                "name",
                format!(
                    "is too long ({chars} characters, at most {})",
                    Self::MAX_CHARS
                ),
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(FieldError::new(
                "name",
                "may only contain letters a-z, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown to other people: 1–120 characters, trimmed, no control characters (they
/// would break the layout of every page and log that shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 120;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(FieldError::new("display_name", "is required"));
        }
        let chars = name.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                "display_name",
                format!(
                    "is too long ({chars} characters, at most {})",
                    Self::MAX_CHARS
                ),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "display_name",
                "may not contain control characters",
            ));
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_trimmed_and_lowercased() {
        assert_eq!(
            UserName::parse("  Ana.B_1-x ").unwrap().as_str(),
            "ana.b_1-x"
        );
        assert_eq!(UserName::parse(&"a".repeat(64)).unwrap().as_str().len(), 64);
    }

    #[test]
    fn odd_user_names_are_refused_with_the_field_named() {
        for bad in ["", "   ", "ana b", "ana@x", "änä", "a/b", &"a".repeat(65)] {
            let e = UserName::parse(bad).unwrap_err();
            assert_eq!(e.field, "name", "{bad:?}");
        }
    }

    #[test]
    fn display_names_allow_any_text_but_control_characters() {
        assert_eq!(
            DisplayName::parse(" Ana Müller ").unwrap().as_str(),
            "Ana Müller"
        );
        assert!(DisplayName::parse(&"é".repeat(120)).is_ok());
        for bad in ["", "  ", "Ana\nMüller", "A\u{7}", &"é".repeat(121)] {
            let e = DisplayName::parse(bad).unwrap_err();
            assert_eq!(e.field, "display_name", "{bad:?}");
        }
    }
}
