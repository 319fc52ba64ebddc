//! The database: a SQLite file (one connection behind a mutex) or a PostgreSQL server (a pool of
//! connections), migrated at open and used from blocking tasks through [`Conn`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::error::ApiError;
use crate::schema;
use crate::sql::{Conn, DbError, PgConn};

/// Where the data lives: `--db PATH` (SQLite; `:memory:` for a throw-away one) or `--db
/// postgres://user:password@host:port/db` (also `postgresql://`).
#[derive(Clone, PartialEq, Eq)]
pub enum DbLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::str::FromStr for DbLocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            s.parse::<postgres::Config>()
                .map_err(|e| format!("not a PostgreSQL URL ({e})"))?;
            Ok(DbLocation::Postgres(s.to_owned()))
        } else if s.is_empty() {
            Err("give a SQLite file or a postgres:// URL".to_owned())
        } else {
            Ok(DbLocation::Sqlite(PathBuf::from(s)))
        }
    }
}

impl DbLocation {
    /// As given on the command line, password included.
    pub fn as_arg(&self) -> String {
        match self {
            DbLocation::Sqlite(path) => path.display().to_string(),
            DbLocation::Postgres(url) => url.clone(),
        }
    }
}

impl From<&Path> for DbLocation {
    fn from(path: &Path) -> Self {
        DbLocation::Sqlite(path.to_owned())
    }
}

/// The location without its password, for logs.
impl std::fmt::Display for DbLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbLocation::Sqlite(path) => write!(f, "{}", path.display()),
            DbLocation::Postgres(url) => match url::Url::parse(url) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    write!(f, "{url}")
                }
                Err(_) => f.write_str("postgres://…"),
            },
        }
    }
}

impl std::fmt::Debug for DbLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// How many connections to a PostgreSQL server one instance keeps at most, and how long a
/// request waits for one of them.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub max: u32,
    pub wait: Duration,
}

impl Default for PoolSize {
    fn default() -> Self {
        PoolSize {
            max: crate::config::defaults::DB_CONNECTIONS,
            wait: crate::config::defaults::DB_WAIT,
        }
    }
}

/// A shared handle to the database.
#[derive(Clone)]
pub struct Db {
    store: Store,
    stats: Arc<DbStats>,
}

/// How the database has been answering, for readiness and metrics.
#[derive(Debug, Default)]
pub struct DbStats {
    /// PostgreSQL: the server could not be reached last time (a connection failed to open, or a
    /// query found the server gone), and nothing has succeeded since. Requests then take only an
    /// idle connection, never wait for a new one, so they are answered `unavailable` at once.
    unreachable: AtomicBool,
    last_failure: Mutex<Option<String>>,
    /// Checkouts of a connection that had to wait for one (PostgreSQL: none idle in the pool;
    /// SQLite: its one connection in use), and how long in all.
    pub pool_waits: AtomicU64,
    pub pool_wait_us: AtomicU64,
    /// Requests that failed on the database: because a part below it was down (`outage`), or
    /// otherwise.
    pub outage_errors: AtomicU64,
    pub other_errors: AtomicU64,
}

impl DbStats {
    fn failed(&self, why: String) {
        self.unreachable.store(true, Ordering::SeqCst);
        *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }

    fn answered(&self) {
        if self.unreachable.load(Ordering::Relaxed) {
            self.unreachable.store(false, Ordering::SeqCst);
            tracing::info!("the database answers again");
        }
    }

    fn waited(&self, since: Instant) {
        self.pool_waits.fetch_add(1, Ordering::Relaxed);
        self.pool_wait_us
            .fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Whether the database could not be reached last time and has not answered since.
    pub fn unreachable(&self) -> bool {
        self.unreachable.load(Ordering::SeqCst)
    }

    fn last_failure(&self) -> String {
        self.last_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| "no connection could be opened".to_owned())
    }
}

#[derive(Clone)]
enum Store {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(r2d2::Pool<PgManager>),
}

/// Opens pooled PostgreSQL connections, noting in the stats whether the server answers.
struct PgManager(postgres::Config, Arc<DbStats>);

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        match self.0.connect(postgres::NoTls) {
            Ok(client) => {
                self.1.answered();
                Ok(PgConn::new(client))
            }
            Err(e) => {
                if !self.1.unreachable() {
                    tracing::warn!(error = %e, "the database cannot be reached");
                }
                self.1.failed(e.to_string());
                Err(e)
            }
        }
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client().simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client().is_closed()
    }
}

impl Db {
    /// Opens the database at `location` and runs the migrations it lacks. A SQLite file (and its
    /// folder) is created when missing; a PostgreSQL database must exist.
    pub fn open(location: &DbLocation, pool: PoolSize) -> anyhow::Result<Db> {
        match location {
            DbLocation::Sqlite(path) => open_sqlite(path),
            DbLocation::Postgres(url) => {
                open_postgres(url, pool).with_context(|| format!("opening {location}"))
            }
        }
    }

    /// A database of its own for a unit test: a throw-away SQLite one in memory, or, when the
    /// tests run against PostgreSQL (`UNIPOS_TEST_POSTGRES`), a new database on that server.
    #[cfg(test)]
    pub fn for_unit_test() -> Db {
        use std::sync::atomic::{AtomicU32, Ordering};
        static MADE: AtomicU32 = AtomicU32::new(0);
        let location = match crate::testing::postgres_server() {
            Some(server) => {
                let n = MADE.fetch_add(1, Ordering::SeqCst);
                let name = format!("unipos_unit_{}_{n}", std::process::id());
                crate::testing::postgres_database(&server, &name)
            }
            None => DbLocation::Sqlite(":memory:".into()),
        };
        crate::testing::open(&location).unwrap()
    }

    /// Runs `f` with a connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.clone();
        let result = tokio::task::spawn_blocking(move || db.run(f)).await?;
        if let Err(e) = &result {
            match e.code() {
                unipos_protocol::ErrorCode::Unavailable => {
                    self.stats.outage_errors.fetch_add(1, Ordering::Relaxed);
                }
                unipos_protocol::ErrorCode::Internal => {
                    self.stats.other_errors.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        result
    }

    /// Whether this is a PostgreSQL database (else a SQLite file).
    pub fn is_postgres(&self) -> bool {
        matches!(self.store, Store::Postgres(_))
    }

    /// How the database has been answering.
    pub fn stats(&self) -> &Arc<DbStats> {
        &self.stats
    }

    /// Runs `f` with a connection on this thread (or, for PostgreSQL, on a thread of its own, as
    /// its blocking client must not run on an async runtime's thread). For start-up work.
    pub fn with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send,
        E: From<DbError> + Send,
        F: FnOnce(&mut Conn<'_>) -> Result<T, E> + Send,
    {
        match &self.store {
            Store::Sqlite(_) => self.run(f),
            Store::Postgres(_) => std::thread::scope(|s| {
                s.spawn(|| self.run(f))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }),
        }
    }

    fn run<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        match &self.store {
            Store::Sqlite(conn) => {
                // One connection: a request that finds it in use waits, and is counted.
                let guard = match conn.try_lock() {
                    Ok(guard) => guard,
                    Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => {
                        let started = Instant::now();
                        let guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                        self.stats.waited(started);
                        guard
                    }
                };
                f(&mut Conn::sqlite(&guard))
            }
            Store::Postgres(pool) => {
                let mut pooled = self.checkout(pool)?;
                let result = f(&mut Conn::postgres(&mut pooled));
                if pooled.client().is_closed() {
                    // The server went away under the query: later requests need not wait for a
                    // connection that cannot be opened.
                    self.stats
                        .failed("the connection to the database closed".to_owned());
                } else if result.is_ok() {
                    self.stats.answered();
                }
                result
            }
        }
    }

    /// A pooled connection. While the server cannot be reached, only an idle one (the pool keeps
    /// trying to open new ones in the background, and the first that opens ends the outage).
    fn checkout(
        &self,
        pool: &r2d2::Pool<PgManager>,
    ) -> Result<r2d2::PooledConnection<PgManager>, DbError> {
        if self.stats.unreachable() {
            return pool
                .try_get()
                .ok_or_else(|| DbError::Unreachable(self.stats.last_failure()));
        }
        let started = Instant::now();
        let idle = pool.state().idle_connections > 0;
        let got = pool.get();
        if !idle {
            self.stats.waited(started);
        }
        got.map_err(|e| {
            if self.stats.unreachable() {
                DbError::Unreachable(self.stats.last_failure())
            } else {
                DbError::from(e)
            }
        })
    }

    /// Moves everything from SQLite's write-ahead log into the main file and empties the log
    /// (nothing to do on PostgreSQL).
    pub fn checkpoint(&self) -> anyhow::Result<()> {
        match &self.store {
            Store::Sqlite(conn) => conn
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(Into::into),
            Store::Postgres(_) => Ok(()),
        }
    }
}

fn open_sqlite(path: &Path) -> anyhow::Result<Db> {
    let in_memory = path.as_os_str() == ":memory:";
    let mut conn = if in_memory {
        rusqlite::Connection::open_in_memory()?
    } else {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the folder {}", dir.display()))?;
        }
        rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?
    };
    // First, so that everything below waits for another process instead of failing.
    conn.busy_timeout(Duration::from_secs(10))?;
    if !in_memory {
        enable_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    // Deleted rows (old token hashes, failure records) are overwritten, not left in free pages.
    conn.pragma_update(None, "secure_delete", true)?;
    conn.set_prepared_statement_cache_capacity(64);
    // Turns foreign keys on once the schema is current.
    schema::migrate_sqlite(&mut conn).with_context(|| format!("migrating {}", path.display()))?;
    Ok(Db {
        store: Store::Sqlite(Arc::new(Mutex::new(conn))),
        stats: Arc::default(),
    })
}

fn open_postgres(url: &str, size: PoolSize) -> anyhow::Result<Db> {
    let mut config: postgres::Config = url.parse()?;
    config
        .application_name("unipos-server")
        .connect_timeout(Duration::from_secs(10));
    let stats = Arc::<DbStats>::default();
    let manager = PgManager(config, stats.clone());
    let mut first = r2d2::ManageConnection::connect(&manager)?;
    schema::migrate_postgres(first.client()).context("migrating")?;
    drop(first);
    let pool = r2d2::Pool::builder()
        .max_size(size.max)
        .min_idle(Some(1))
        .connection_timeout(size.wait)
        // A broken connection is found by its next query; no round trip before each use.
        .test_on_check_out(false)
        .build(manager)?;
    Ok(Db {
        store: Store::Postgres(pool),
        stats,
    })
}

/// Switches the file to write-ahead logging. SQLite answers "locked" at once, without waiting,
/// while another process is making the same switch, so this retries for a few seconds.
fn enable_wal(conn: &rusqlite::Connection) -> anyhow::Result<()> {
    let mut tries = 0;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())) {
            Ok(()) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 =>
            {
                tries += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e).context("switching to write-ahead logging"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: PoolSize = PoolSize {
        max: 2,
        wait: Duration::from_secs(1),
    };

    fn user_version(path: &Path) -> usize {
        rusqlite::Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    /// A database of this test's own on the store the tests run against: a SQLite file in a
    /// folder not made yet, or a new PostgreSQL database (`UNIPOS_TEST_POSTGRES`).
    fn fresh_database(dir: &Path) -> DbLocation {
        match crate::testing::postgres_server() {
            Some(_) => crate::testing::database(dir),
            None => DbLocation::Sqlite(dir.join("nested/db.sqlite3")),
        }
    }

    /// The schema step the database is at, as the store records it.
    fn schema_version(location: &DbLocation) -> usize {
        match location {
            DbLocation::Sqlite(path) => user_version(path),
            DbLocation::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                let v: i64 = c
                    .query_one("SELECT version FROM unipos_schema", &[])
                    .unwrap()
                    .get(0);
                usize::try_from(v).unwrap()
            }
        }
    }

    /// Makes the database look as a newer server left it.
    fn set_schema_version(location: &DbLocation, version: usize) {
        match location {
            DbLocation::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .pragma_update(None, "user_version", version)
                .unwrap(),
            DbLocation::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.execute(
                    "UPDATE unipos_schema SET version = $1",
                    &[&i64::try_from(version).unwrap()],
                )
                .unwrap();
            }
        }
    }

    #[test]
    fn migrations_run_once_and_reopening_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let location = fresh_database(dir.path());
        drop(Db::open(&location, POOL).unwrap());
        assert_eq!(
            schema_version(&location),
            crate::testing::schema_steps(&location)
        );
        drop(Db::open(&location, POOL).unwrap());
        assert_eq!(
            schema_version(&location),
            crate::testing::schema_steps(&location)
        );
    }

    #[test]
    fn a_database_from_a_newer_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let location = fresh_database(dir.path());
        drop(Db::open(&location, POOL).unwrap());
        set_schema_version(&location, 99);
        let err = Db::open(&location, POOL).err().unwrap();
        assert!(format!("{err:#}").contains("newer"), "{err:#}");
    }

    #[test]
    fn servers_starting_at_the_same_moment_on_an_empty_database_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let location = fresh_database(dir.path());
        if let DbLocation::Sqlite(path) = &location {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        }
        let opened: Vec<_> = (0..8)
            .map(|_| {
                let location = location.clone();
                std::thread::spawn(move || Db::open(&location, POOL).map(drop))
            })
            .collect();
        for o in opened {
            o.join().unwrap().unwrap();
        }
        assert_eq!(
            schema_version(&location),
            crate::testing::schema_steps(&location)
        );
    }

    // SQLite's steps 4 and 5 rebuild tables (SQLite cannot alter a constraint); PostgreSQL's
    // steps alter them in place, and the API's upgrade test covers every step of both stores.
    #[test]
    fn a_file_made_before_step_4_keeps_its_failed_logins_and_posts_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            for step in &schema::SQLITE[..3] {
                c.execute_batch(step).unwrap();
            }
            c.pragma_update(None, "user_version", 3).unwrap();
            c.execute_batch(
                "INSERT INTO teams VALUES (1, 't', 'T', 8, 64, 1, 1, 1, 0, 0);
                 INSERT INTO posts VALUES ('b', 1, 'x', 'y', 'second', 1, 5);
                 INSERT INTO posts VALUES ('a', 1, 'x', 'y', 'first', 1, 5);
                 INSERT INTO login_failures VALUES ('email:a@example.com', 7);",
            )
            .unwrap();
        }
        let db = Db::open(&path.as_path().into(), POOL).unwrap();
        let (posts, failures) = db
            .with(|c| -> Result<_, DbError> {
                Ok((
                    crate::store::timeline(c, 1, 10)?,
                    c.value::<i64>("SELECT COUNT(*) FROM login_failures WHERE id = 1", &[])?,
                ))
            })
            .unwrap();
        let messages: Vec<_> = posts.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(messages, ["first", "second"], "newest insertion first");
        assert_eq!(failures, 1);
    }

    /// Step 5 rebuilds `users` and `mail_outbox`: every member, session, reset link and queued
    /// mail of an older file is still there, and still refers to its member.
    #[test]
    fn a_file_made_before_step_5_keeps_its_members_sessions_links_and_mail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            let mut c = rusqlite::Connection::open(&path).unwrap();
            c.pragma_update(None, "foreign_keys", true).unwrap();
            let tx = c.transaction().unwrap();
            for step in &schema::SQLITE[..4] {
                tx.execute_batch(step).unwrap();
            }
            tx.pragma_update(None, "user_version", 4).unwrap();
            tx.execute_batch(
                "INSERT INTO teams VALUES (1, 't', 'T', 8, 64, 1, 1, 1, 0, 0);
                 INSERT INTO users (id, team_id, email, email_normalized, display_name,
                     login_method, password_hash, created_at, password_form)
                     VALUES ('u1', 1, 'a@example.com', 'a@example.com', 'A', 'email', 'phc', 0,
                     'nfkc');
                 INSERT INTO sessions VALUES (1, 'u1', x'01', 0, 99, NULL);
                 INSERT INTO reset_tokens (user_id, token_hash, created_at, expires_at)
                     VALUES ('u1', x'02', 0, 99);
                 INSERT INTO mail_outbox (kind, to_addr, created_at, not_before)
                     VALUES ('password_changed', 'a@example.com', 0, 0);",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let db = Db::open(&path.as_path().into(), POOL).unwrap();
        let counts = db
            .with(|c| -> Result<_, DbError> {
                let user = crate::store::user_by_id(c, "u1")?.unwrap();
                Ok((
                    user.role,
                    user.password_hash,
                    c.value::<i64>("SELECT COUNT(*) FROM sessions WHERE user_id = 'u1'", &[])?,
                    c.value::<i64>(
                        "SELECT COUNT(*) FROM reset_tokens WHERE user_id = 'u1'",
                        &[],
                    )?,
                    c.value::<i64>("SELECT COUNT(*) FROM mail_outbox", &[])?,
                ))
            })
            .unwrap();
        assert_eq!(
            counts,
            (
                unipos_protocol::Role::Member,
                Some("phc".to_owned()),
                1,
                1,
                1
            )
        );
        // Foreign keys are on again: a session of no member is refused.
        let orphan = db.with(|c| {
            c.execute(
                "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) \
                 VALUES ('nobody', x'03', 0, 1)",
                &[],
            )
        });
        assert!(orphan.is_err(), "foreign keys are enforced after migrating");
    }

    #[test]
    fn in_memory_works() {
        Db::open(&DbLocation::Sqlite(":memory:".into()), POOL).unwrap();
    }

    #[test]
    fn locations_are_files_or_postgres_urls_and_print_without_their_password() {
        let file: DbLocation = ".data/db.sqlite3".parse().unwrap();
        assert_eq!(file, DbLocation::Sqlite(".data/db.sqlite3".into()));
        for url in [
            "postgres://unipos:s3cret@db.internal:5432/unipos",
            "postgresql://unipos:s3cret@db.internal/unipos",
        ] {
            let pg: DbLocation = url.parse().unwrap();
            assert_eq!(pg.as_arg(), url);
            let shown = format!("{pg} {pg:?}");
            assert!(
                !shown.contains("s3cret") && shown.contains("db.internal"),
                "{shown}"
            );
        }
        assert!("postgres://host:notaport/db".parse::<DbLocation>().is_err());
        assert!("".parse::<DbLocation>().is_err());
    }
}
