//! For tests that start the server in-process (the `testing` feature, which release builds do
//! not have): a server as production runs it, on a database that already holds the demo
//! organisation; members, teams and bounces set up directly in the store, where production has
//! an admin or a mail system; and the mail it sent, read from its `.eml` files.
//!
//! Nothing here changes how the server behaves: it is started with the same [`spawn`] and a
//! configuration without `--dev`, so sent mail is forgotten once it is out, as in production.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failure is the test's"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use unipos_protocol::{Email, SessionResponse, User};

use crate::clock::{rfc3339, Clock};
use crate::db::{Db, DbLocation, PoolSize};
use crate::dev::{self, DevTeam, NewMember, SignInAs};
use crate::secrets::hash_password;
use crate::sessions::NewSession;
use crate::sql::{Conn, DbError, PgConn};
use crate::{store, Config, RunningServer, SentMail};

impl Config {
    /// A server on a free loopback port, as in production (no `--dev`), with its mail written
    /// as `.eml` files to `dir/outbox` and its database in `dir` too: a SQLite file, or, when
    /// `UNIPOS_TEST_POSTGRES` names a PostgreSQL server (`postgres://user:password@host:port`),
    /// a database of its own on that server ([`database`]).
    pub fn for_tests(dir: &Path) -> Config {
        Config {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            db: database(dir),
            outbox_dir: Some(dir.join("outbox")),
            dev: false,
            ..Config::default()
        }
    }
}

/// Seeds the demo organisation into `config`'s database (the store directly, as `--dev` would,
/// without turning on anything else of `--dev`), then starts the server.
pub async fn spawn_with_demo(config: Config) -> anyhow::Result<RunningServer> {
    seed_demo(&config.db, &config.clock)?;
    crate::spawn(config).await
}

/// Seeds the demo organisation (members, admin, posts) into the database at `location`,
/// keeping whatever of it is there.
pub fn seed_demo(location: &DbLocation, clock: &Clock) -> anyhow::Result<()> {
    let db = open(location)?;
    dev::seed(&db, clock.now_ms()).context("seeding the demo organisation")
}

/// Opens (and migrates) the database at `location`, on a thread of its own: PostgreSQL's
/// blocking client must not run on an async runtime's thread.
pub(crate) fn open(location: &DbLocation) -> anyhow::Result<Db> {
    std::thread::scope(|s| {
        s.spawn(|| Db::open(location, PoolSize::default()))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The database of the test servers in `dir`: a SQLite file there, or, with
/// `UNIPOS_TEST_POSTGRES`, a database of its own on that PostgreSQL server, named after `dir`
/// (so a second config for the same `dir` finds the same data) and created if missing.
pub fn database(dir: &Path) -> DbLocation {
    match std::env::var("UNIPOS_TEST_POSTGRES") {
        Ok(server) => {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            dir.hash(&mut hasher);
            postgres_database(&server, &format!("unipos_test_{:016x}", hasher.finish()))
        }
        Err(_) => DbLocation::Sqlite(dir.join("unipos-server.sqlite3")),
    }
}

/// `UNIPOS_TEST_POSTGRES`'s server, when the tests run against PostgreSQL.
pub fn postgres_server() -> Option<String> {
    std::env::var("UNIPOS_TEST_POSTGRES").ok()
}

/// The database `name` on the PostgreSQL server `server`, created if missing.
pub fn postgres_database(server: &str, name: &str) -> DbLocation {
    let server = server.trim_end_matches('/');
    // On a thread of its own: the blocking client must not run on an async runtime's thread.
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut admin =
                postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
                    .unwrap_or_else(|e| panic!("UNIPOS_TEST_POSTGRES: {e}"));
            let exists = |admin: &mut postgres::Client| {
                admin
                    .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                    .map(|row| row.is_some())
            };
            if !exists(&mut admin).unwrap() {
                // A file copy of the small template is quicker than logging it (PostgreSQL 15+).
                let made = admin
                    .batch_execute(&format!("CREATE DATABASE {name} STRATEGY FILE_COPY"))
                    .or_else(|_| admin.batch_execute(&format!("CREATE DATABASE {name}")));
                if let Err(e) = made {
                    // Another test's config for the same folder made it meanwhile.
                    assert!(exists(&mut admin).unwrap(), "creating {name}: {e}");
                }
            }
        })
        .join()
        .unwrap()
    });
    DbLocation::Postgres(format!("{server}/{name}"))
}

/// How many schema steps the store at `location` has (SQLite's or PostgreSQL's).
pub fn schema_steps(location: &DbLocation) -> usize {
    match location {
        DbLocation::Sqlite(_) => crate::schema::SQLITE.len(),
        DbLocation::Postgres(_) => crate::schema::POSTGRES.len(),
    }
}

/// Makes the database at `location` as a server of schema step `step` left it: its store's
/// first `step` migration steps, then what `write` writes (rows as that server stored them),
/// and nothing more. A server started on it later migrates the rest.
pub fn at_schema_step<T: Send>(
    location: &DbLocation,
    step: usize,
    write: impl FnOnce(&mut Conn<'_>) -> Result<T, DbError> + Send,
) -> anyhow::Result<T> {
    match location {
        DbLocation::Sqlite(path) => {
            let mut conn = rusqlite::Connection::open(path)?;
            crate::schema::migrate_sqlite_to(&mut conn, step)?;
            Ok(write(&mut Conn::sqlite(&conn))?)
        }
        // On a thread of its own: the blocking client must not run on an async runtime's thread.
        DbLocation::Postgres(url) => std::thread::scope(|s| {
            s.spawn(|| -> anyhow::Result<T> {
                let mut client = postgres::Client::connect(url, postgres::NoTls)?;
                crate::schema::migrate_postgres_to(&mut client, step)?;
                let mut pg = PgConn::new(client);
                let written = write(&mut Conn::postgres(&mut pg))?;
                drop(pg);
                Ok(written)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
    }
}

impl RunningServer {
    /// The mail this server wrote as `.eml` files so far, oldest first (none when it sends
    /// through SMTP).
    pub fn outbox(&self) -> Vec<SentMail> {
        self.outbox_dir
            .as_deref()
            .map(read_outbox)
            .unwrap_or_default()
    }

    /// Whether this server's deliverer is handling a mail now: a mail whose file is there is
    /// fully delivered (its link recorded, older links superseded) once this is false.
    pub fn delivering_mail(&self) -> bool {
        self.state
            .as_ref()
            .is_some_and(|s| s.metrics.mail_delivering.get() != 0)
    }

    /// How many password hashes and checks (argon2 runs) the server made since it started.
    pub fn password_hash_runs(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.hasher.runs())
    }

    /// How many password hashes and checks were admitted to run or wait since it started;
    /// they take the hashing workers in this order.
    pub fn password_checks_admitted(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.hasher.admissions())
    }

    /// The server's database, to set up what production gets from elsewhere.
    pub fn store(&self) -> Store {
        let clock = self
            .state
            .as_ref()
            .map_or_else(Clock::system, |s| s.clock.clone());
        Store {
            db: self.db.clone(),
            clock,
        }
    }
}

/// A server's database, written directly: members and teams (in production an admin's), an
/// undeliverable address (a bounce), a session (an SSO sign-in), posts. Each goes through the
/// same checks as the `--dev` endpoint that does the same.
pub struct Store {
    db: Db,
    clock: Clock,
}

impl Store {
    /// The store of the database at `location`, with the system clock.
    pub fn open(location: &DbLocation) -> anyhow::Result<Store> {
        Ok(Store {
            db: open(location)?,
            clock: Clock::system(),
        })
    }

    /// Adds a member described as `POST /dev/users` takes one (`email` or `team` +
    /// `login_id`, `password`, `display_name`, `login_method`, `role`).
    pub fn add_member(&self, member: serde_json::Value) -> anyhow::Result<User> {
        let req: NewMember = serde_json::from_value(member).context("a member")?;
        let now = self.clock.now_ms();
        let fields = dev::member_fields(&req).map_err(refused)?;
        let team = self
            .db
            .with(|c| dev::team_of(c, &fields, now))
            .context("the member's team")?;
        let hash = match dev::password_of(&req, &fields, &team).map_err(refused)? {
            Some(password) => Some(hash_password(&password)?),
            None => None,
        };
        let user = self
            .db
            .with(|c| dev::insert_member(c, &req, &fields, &team, hash.as_deref(), now))
            .map_err(refused)?;
        Ok(user.to_wire())
    }

    /// Creates a team or sets its name and policy, as `POST /dev/teams` takes it (`slug`,
    /// `name`, `policy`).
    pub fn set_team(&self, team: serde_json::Value) -> anyhow::Result<()> {
        let req: DevTeam = serde_json::from_value(team).context("a team")?;
        let now = self.clock.now_ms();
        self.db
            .with(|c| dev::set_team(c, &req, now))
            .map_err(refused)?;
        Ok(())
    }

    /// Marks `email` undeliverable, as a bounce would.
    pub fn bounce(&self, email: &str) -> anyhow::Result<()> {
        let email = Email::parse(email)?;
        let now = self.clock.now_ms();
        self.db.with(|c| dev::mark_undeliverable(c, &email, now))?;
        Ok(())
    }

    /// A session for the member `email` without a password, as an SSO sign-in gives one.
    pub fn sign_in(&self, email: &str) -> anyhow::Result<SessionResponse> {
        let req = SignInAs {
            email: Some(email.to_owned()),
            team: None,
            login_id: None,
        };
        let now = self.clock.now_ms();
        let session = NewSession::new(now, Config::default().session_ttl);
        let (hash, expires_at) = (session.hash.clone(), session.expires_at);
        let user = self
            .db
            .with(|c| -> Result<_, crate::error::ApiError> {
                let user = dev::member_named(c, &req)?;
                store::insert_session(c, &user.id, &hash, now, expires_at)?;
                Ok(user)
            })
            .map_err(refused)?;
        Ok(session.into_response(&user))
    }

    /// A post on the timeline of the team `slug`, `age` ago.
    pub fn add_post(
        &self,
        slug: &str,
        from: &str,
        to: &str,
        message: &str,
        age: Duration,
    ) -> anyhow::Result<()> {
        let at = self.clock.now_ms() - age.as_millis() as i64;
        self.db.with(|c| -> Result<(), DbError> {
            let team = store::team_by_slug(c, slug)?.ok_or(DbError::NoRow)?;
            store::insert_post(c, team.id, from, to, message, 10, at)
        })?;
        Ok(())
    }
}

/// The log of every server of this test process, in the format of `--log-format json`, as
/// support reads it to find a request by its id; its errors also go to the output of the test
/// that met them. The first call installs it as the process's tracing subscriber; later calls
/// answer the same log.
pub fn json_log() -> &'static JsonLog {
    static LOG: std::sync::OnceLock<JsonLog> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        use tracing_subscriber::util::SubscriberInitExt;
        let log = JsonLog(std::sync::Arc::new(std::sync::Mutex::new(Vec::new())));
        let writer = log.0.clone();
        crate::json_log(tracing_subscriber::EnvFilter::new("info"), move || {
            LogWriter(writer.clone())
        })
        .try_init()
        .expect("no other tracing subscriber in this test process");
        log
    })
}

/// What [`json_log`] holds.
pub struct JsonLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl JsonLog {
    /// The request lines (`"message": "request"`) of the request with this id, as
    /// `jq 'select(.span.request_id == ID)'` finds them.
    pub fn requests(&self, request_id: &str) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|l| l["message"] == "request" && l["span"]["request_id"] == request_id)
            .collect()
    }
}

struct LogWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // An error (a 500's cause) also goes to the output of the test that met it, which
        // shows it when the test fails.
        let line = String::from_utf8_lossy(buf);
        if line.contains(r#""level":"ERROR""#) {
            eprint!("{line}");
        }
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn refused(e: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("refused: {}", e.code())
}

/// The mail in the `.eml` files of `dir`, oldest first (by the time each file was written).
pub fn read_outbox(dir: &Path) -> Vec<SentMail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(written, path)| {
            let eml = std::fs::read_to_string(&path).ok()?;
            let ms = written
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            Some(parse_eml(&eml, rfc3339(ms)))
        })
        .collect()
}

/// What a mail reader shows of an `.eml` file the server wrote: the addressee, the subject and
/// the reset links of its text part.
fn parse_eml(eml: &str, sent_at: String) -> SentMail {
    let text = eml_part(eml, "text/plain").unwrap_or_default();
    let mut links: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim) {
        let link = line.starts_with("http") && line.contains("/reset_password?token=");
        if link && !links.iter().any(|l| l == line) {
            links.push(line.to_owned());
        }
    }
    SentMail {
        to: eml_header(eml, "To").unwrap_or_default(),
        subject: eml_header(eml, "Subject").unwrap_or_default(),
        sent_at,
        links,
    }
}

/// A header of the message, unfolded, with RFC 2047 `=?utf-8?b?…?=` words decoded.
pub fn eml_header(eml: &str, name: &str) -> Option<String> {
    let head = eml.split("\r\n\r\n").next()?.replace("\r\n ", " ");
    let raw = head
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))?;
    let mut out = String::new();
    let mut previous_encoded = false;
    for word in raw.split(' ') {
        let decoded = word
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="))
            .and_then(|b64| String::from_utf8(STANDARD.decode(b64).ok()?).ok());
        let encoded = decoded.is_some();
        // RFC 2047: the space between two encoded words is not part of the text.
        let joins_encoded_words = encoded && previous_encoded;
        if !out.is_empty() && !joins_encoded_words {
            out.push(' ');
        }
        out.push_str(&decoded.unwrap_or_else(|| word.to_owned()));
        previous_encoded = encoded;
    }
    Some(out)
}

/// The decoded body of the message's part with this content type (`text/plain`, `text/html`).
pub fn eml_part(eml: &str, content_type: &str) -> Option<String> {
    let section = eml
        .split(&format!("Content-Type: {content_type}; charset=utf-8\r\n"))
        .nth(1)?;
    let body: String = section
        .split("\r\n\r\n")
        .nth(1)?
        .lines()
        .take_while(|l| !l.starts_with("--"))
        .collect();
    String::from_utf8(STANDARD.decode(body.trim()).ok()?).ok()
}
