//! The one way to open the database: the event store and the portable pool, opened in the
//! right order (the store runs the migrations first), sharing one write queue on SQLite.

use crate::db::{DatabaseUrl, PortableDb, WriteTurns};
use crate::store::{EventStore, StoreError};
use std::path::PathBuf;

/// Both handles on one database. Their pools are private to them.
#[derive(Debug, Clone)]
pub struct Database {
    pub store: EventStore,
    /// The portable-SQL side: projection catalog, read models, audit, nodes, users.
    pub db: PortableDb,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no database at {} (nothing to read)", .0.display())]
    NoSuchFile(PathBuf),
    #[error("cannot create the database folder: {0}")]
    Folder(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl Database {
    /// Opens the database, creating a SQLite file (and its folder) that is not there yet, and
    /// brings its tables up to date.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, OpenError> {
        url.create_sqlite_dir()?;
        Self::connect(url).await
    }

    /// Like `open`, but a SQLite file that does not exist is refused instead of created: for
    /// commands that only read, where a typo would otherwise "work" on an empty database.
    pub async fn open_existing(url: &DatabaseUrl) -> Result<Self, OpenError> {
        if let DatabaseUrl::Sqlite { path, .. } = url {
            if !path.exists() {
                return Err(OpenError::NoSuchFile(path.clone()));
            }
        }
        Self::connect(url).await
    }

    async fn connect(url: &DatabaseUrl) -> Result<Self, OpenError> {
        let turns = WriteTurns::default();
        let store = EventStore::open(url, turns.clone()).await?;
        let sqlite_turns = matches!(url, DatabaseUrl::Sqlite { .. }).then_some(turns);
        let db = PortableDb::connect(url, sqlite_turns).await?;
        Ok(Self { store, db })
    }
}
