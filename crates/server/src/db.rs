//! The SQLite database: one connection behind a mutex, used from blocking tasks, migrated at open.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rusqlite::Connection;

use crate::error::ApiError;

/// Ordered schema steps; `PRAGMA user_version` says how many have run. Never edit a shipped step:
/// append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: organisations, members, sessions, reset tokens, lockouts, undeliverable addresses, posts.
    r#"
    CREATE TABLE teams (
        id             INTEGER PRIMARY KEY,
        slug           TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name           TEXT NOT NULL,
        min_length     INTEGER NOT NULL,
        max_length     INTEGER NOT NULL,
        require_lower  INTEGER NOT NULL,
        require_upper  INTEGER NOT NULL,
        require_digit  INTEGER NOT NULL,
        require_symbol INTEGER NOT NULL,
        created_at     INTEGER NOT NULL
    );
    CREATE TABLE users (
        id                  TEXT PRIMARY KEY,
        team_id             INTEGER NOT NULL REFERENCES teams(id),
        email               TEXT,
        email_normalized    TEXT UNIQUE,
        login_id            TEXT COLLATE NOCASE,
        display_name        TEXT NOT NULL,
        login_method        TEXT NOT NULL CHECK (login_method IN ('email', 'login_id', 'sso')),
        password_hash       TEXT,
        password_changed_at INTEGER,
        created_at          INTEGER NOT NULL,
        UNIQUE (team_id, login_id),
        CHECK ((email IS NULL) = (email_normalized IS NULL)),
        CHECK (login_method <> 'login_id' OR login_id IS NOT NULL),
        CHECK (login_method = 'login_id' OR email IS NOT NULL),
        CHECK (login_method = 'sso' OR password_hash IS NOT NULL)
    );
    CREATE TABLE sessions (
        id         INTEGER PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash BLOB NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE reset_tokens (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash    BLOB NOT NULL UNIQUE,
        created_at    INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        used_at       INTEGER,
        superseded_at INTEGER
    );
    CREATE INDEX reset_tokens_by_user ON reset_tokens(user_id);
    CREATE TABLE login_failures (
        login_key TEXT NOT NULL,
        failed_at INTEGER NOT NULL
    );
    CREATE INDEX login_failures_by_key ON login_failures(login_key, failed_at);
    CREATE TABLE login_locks (
        login_key    TEXT PRIMARY KEY,
        locked_until INTEGER NOT NULL
    );
    CREATE TABLE suppressed_emails (
        email_normalized TEXT PRIMARY KEY,
        reason           TEXT NOT NULL,
        created_at       INTEGER NOT NULL
    );
    CREATE TABLE posts (
        id         TEXT PRIMARY KEY,
        team_id    INTEGER NOT NULL REFERENCES teams(id),
        from_name  TEXT NOT NULL,
        to_name    TEXT NOT NULL,
        message    TEXT NOT NULL,
        points     INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX posts_by_team ON posts(team_id, created_at);
    "#,
    // 2: passwords hashed in their NFKC form (older hashes are of the password as typed, and are
    // replaced at the next good check); reset links ended by a password change.
    r#"
    ALTER TABLE users ADD COLUMN password_form TEXT NOT NULL DEFAULT 'as_typed'
        CHECK (password_form IN ('nfkc', 'as_typed'));
    ALTER TABLE reset_tokens ADD COLUMN revoked_at INTEGER;
    "#,
    // 3: state every instance on the database shares: rate-limit events, and the mail to send
    // (a transactional outbox: a request and its mail are written together, and any instance
    // delivers what is due; `token` holds a sent link in dev mode only).
    r#"
    CREATE TABLE rate_events (
        scope TEXT NOT NULL,
        key   TEXT NOT NULL,
        at    INTEGER NOT NULL
    );
    CREATE INDEX rate_events_by_key ON rate_events(scope, key, at);
    CREATE INDEX rate_events_by_time ON rate_events(at);
    CREATE TABLE mail_outbox (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        kind         TEXT NOT NULL CHECK (kind IN ('reset_request', 'password_changed')),
        to_addr      TEXT NOT NULL,
        display_name TEXT,
        token        TEXT,
        request_id   TEXT,
        created_at   INTEGER NOT NULL,
        not_before   INTEGER NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        sent_at      INTEGER
    );
    CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, not_before);
    "#,
];

/// A shared handle to the database.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the file at `path`, or an in-memory database for `:memory:`,
    /// and runs the migrations it lacks.
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        let in_memory = path.as_os_str() == ":memory:";
        let mut conn = if in_memory {
            Connection::open_in_memory()?
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the folder {}", dir.display()))?;
            }
            Connection::open(path).with_context(|| format!("opening {}", path.display()))?
        };
        // First, so that everything below waits for another process instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        if !in_memory {
            enable_wal(&conn)?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        conn.pragma_update(None, "foreign_keys", true)?;
        // Deleted rows (old token hashes, failure records) are overwritten, not left in free pages.
        conn.pragma_update(None, "secure_delete", true)?;
        migrate(&mut conn).with_context(|| format!("migrating {}", path.display()))?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await?
    }

    /// Runs `f` with the connection on the current thread (for start-up work).
    pub fn with<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    /// Moves everything from the write-ahead log into the main file and empties the log.
    pub fn checkpoint(&self) -> anyhow::Result<()> {
        self.with(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(Into::into)
        })
    }
}

/// Switches the file to write-ahead logging. SQLite answers "locked" at once, without waiting,
/// while another process is making the same switch, so this retries for a few seconds.
fn enable_wal(conn: &Connection) -> anyhow::Result<()> {
    let mut tries = 0;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())) {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e).context("switching to write-ahead logging"),
        }
    }
}

/// Runs the steps the database lacks, all in one write transaction: a second server starting at
/// the same moment waits for it (busy timeout), then finds nothing left to do.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    anyhow::ensure!(
        version <= MIGRATIONS.len(),
        "the database has schema version {version}, newer than this server knows ({}): use a newer server",
        MIGRATIONS.len()
    );
    for (index, step) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(step)
            .with_context(|| format!("schema step {}", index + 1))?;
        tx.pragma_update(None, "user_version", index + 1)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_reopening_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/db.sqlite3");
        let db = Db::open(&path).unwrap();
        let v: usize = db.with(|c| {
            c.pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap()
        });
        assert_eq!(v, MIGRATIONS.len());
        drop(db);
        Db::open(&path).unwrap();
    }

    #[test]
    fn a_database_from_a_newer_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        Db::open(&path)
            .unwrap()
            .with(|c| c.pragma_update(None, "user_version", 99).unwrap());
        let err = Db::open(&path).err().unwrap();
        assert!(format!("{err:#}").contains("newer"), "{err:#}");
    }

    #[test]
    fn servers_starting_at_the_same_moment_on_an_empty_file_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let opened: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Db::open(&path).map(drop))
            })
            .collect();
        for o in opened {
            o.join().unwrap().unwrap();
        }
        let db = Db::open(&path).unwrap();
        let v: usize = db.with(|c| {
            c.pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap()
        });
        assert_eq!(v, MIGRATIONS.len());
    }

    #[test]
    fn in_memory_works() {
        Db::open(Path::new(":memory:")).unwrap();
    }
}
