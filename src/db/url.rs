//! The database URL, parsed once into a typed value, and which database it names.

use crate::text_enum::text_enum;
use std::fmt;
use std::path::PathBuf;

/// A database URL that has been checked: PostgreSQL or a SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite { url: String, path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported database URL {0:?} (expected postgres://… or sqlite:PATH)")]
pub struct UnsupportedUrl(pub String);

impl DatabaseUrl {
    pub const DEFAULT: &'static str = "sqlite:data/freightdesk.db";

    pub fn parse(url: &str) -> Result<Self, UnsupportedUrl> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(UnsupportedUrl(url.to_string()));
        };
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err(UnsupportedUrl(url.to_string()));
        }
        Ok(Self::Sqlite {
            url: url.to_string(),
            path: PathBuf::from(path),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Postgres(url) | Self::Sqlite { url, .. } => url,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Postgres(_) => Dialect::Postgres,
            Self::Sqlite { .. } => Dialect::Sqlite,
        }
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        let url = self.as_str();
        match url_password_span(url) {
            Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
            None => url.to_string(),
        }
    }

    /// Creates the SQLite file's folder, so a fresh checkout just works. Only `serve` and the
    /// commands that write call this: a command that only reads must not create a database.
    pub fn create_sqlite_dir(&self) -> std::io::Result<()> {
        if let Self::Sqlite { path, .. } = self {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn url_password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let at = url[authority_start..authority_end].rfind('@')? + authority_start;
    let colon = url[authority_start..at].find(':')? + authority_start;
    Some((colon + 1, at))
}

text_enum! {
    /// Which database: the one name for "PostgreSQL or SQLite" everywhere in the code.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Dialect {
        Postgres = "postgres",
        Sqlite = "sqlite",
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_once_into_a_backend() {
        let cases = [
            ("postgres://u@h/db", Some(Dialect::Postgres)),
            ("postgresql://u@h/db", Some(Dialect::Postgres)),
            ("sqlite:data/x.db", Some(Dialect::Sqlite)),
            ("sqlite://tmp/x.db?mode=rwc", Some(Dialect::Sqlite)),
            ("sqlite:", None),
            ("mysql://h/db", None),
            ("", None),
        ];
        for (url, want) in cases {
            assert_eq!(
                DatabaseUrl::parse(url).ok().map(|u| u.dialect()),
                want,
                "{url}"
            );
        }
        match DatabaseUrl::parse("sqlite://tmp/x.db?mode=rwc").unwrap() {
            DatabaseUrl::Sqlite { path, .. } => assert_eq!(path, PathBuf::from("tmp/x.db")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let cases = [
            (
                "postgres://u:secret@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h/db?x=a:b@c", "postgres://h/db?x=a:b@c"),
            ("sqlite:data/freightdesk.db", "sqlite:data/freightdesk.db"),
        ];
        for (input, want) in cases {
            assert_eq!(DatabaseUrl::parse(input).unwrap().redacted(), want);
        }
    }
}
