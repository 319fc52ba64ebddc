//! A server per test, and a small HTTP vocabulary over reqwest.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use unipos_protocol::{ErrorCode, ErrorEnvelope, SessionResponse};
pub use unipos_server::sql::Arg;
use unipos_server::sql::DbError;
pub use unipos_server::testing::Store;
use unipos_server::{Clock, Config, Db, DbLocation, PoolSize, SentMail};
pub use unipos_testsupport::{token_of, TestBackend};

pub use unipos_server::dev::{
    DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_EMAIL, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD,
    DEMO_PASSWORD, DEMO_SSO_EMAIL, DEMO_TEAM,
};

/// The reference server of one test (unipos-testsupport: its folder, clock and mail), and an
/// HTTP client for its API and pages.
pub struct TestServer {
    backend: TestBackend,
    pub http: reqwest::Client,
    pub api: String,
    pub base: String,
}

impl std::ops::Deref for TestServer {
    type Target = TestBackend;
    fn deref(&self) -> &TestBackend {
        &self.backend
    }
}

impl std::ops::DerefMut for TestServer {
    fn deref_mut(&mut self) -> &mut TestBackend {
        &mut self.backend
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts an error envelope with this code and the status the protocol gives it.
    #[track_caller]
    pub fn assert_error(&self, code: ErrorCode) -> ErrorEnvelope {
        let envelope: ErrorEnvelope = serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not an error envelope ({e}): {} {}",
                self.status,
                self.text()
            )
        });
        assert_eq!(envelope.error.code, code, "{}", self.text());
        assert_eq!(self.status.as_u16(), code.http_status(), "{}", self.text());
        assert!(!envelope.error.message.is_empty());
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/json")
        );
        envelope
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Reply {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        self
    }

    pub fn session(&self) -> SessionResponse {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A server as in production (no `--dev`), on a database seeded with the demo
    /// organisation, with its mail written to `dir/outbox`.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        // A failing test shows the server's errors (the cause of a 500) with its output.
        unipos_server::testing::json_log();
        let backend = TestBackend::start_with(configure).await;
        let http = http_client()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        TestServer {
            api: backend.server().api_url(),
            base: backend.server().base_url().to_string(),
            backend,
            http,
        }
    }

    /// A server started with `--dev`: it seeds the demo organisation itself and serves the
    /// `/dev` endpoints.
    pub async fn start_dev() -> TestServer {
        TestServer::start_with(|c| c.dev = true).await
    }

    /// The server's database, to set up what production gets from an admin or a mail system.
    pub fn store(&self) -> Store {
        self.server().store()
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.expect("the request reaches the server");
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(
            Method::POST,
            &format!("{}{path}", self.api),
            Some(body),
            None,
            &[],
        )
        .await
    }

    pub async fn put_as(&self, path: &str, body: Value, token: &str) -> Reply {
        self.send(
            Method::PUT,
            &format!("{}{path}", self.api),
            Some(body),
            Some(token),
            &[],
        )
        .await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Reply {
        self.send(
            Method::GET,
            &format!("{}{path}", self.api),
            None,
            Some(token),
            &[],
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, &format!("{}{path}", self.api), None, None, &[])
            .await
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> Reply {
        self.send(
            Method::DELETE,
            &format!("{}{path}", self.api),
            None,
            Some(token),
            &[],
        )
        .await
    }

    /// A page outside the API (`/reset_password`, `/.well-known/...`).
    pub async fn get_page(&self, path_and_query: &str) -> Reply {
        self.send(
            Method::GET,
            &format!("{}{path_and_query}", self.base),
            None,
            None,
            &[],
        )
        .await
    }

    pub async fn forgot(&self, email: &str) -> Reply {
        self.post("/password/forgot", json!({ "email": email }))
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/sessions", json!({ "email": email, "password": password }))
            .await
    }

    pub async fn login_with_login_id(&self, team: &str, login_id: &str, password: &str) -> Reply {
        self.post(
            "/sessions",
            json!({ "team": team, "login_id": login_id, "password": password }),
        )
        .await
    }

    /// The demo team admin's session.
    pub async fn admin_token(&self) -> String {
        self.session_token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
            .await
    }

    pub async fn post_as(&self, path: &str, body: Value, token: &str) -> Reply {
        self.send(
            Method::POST,
            &format!("{}{path}", self.api),
            Some(body),
            Some(token),
            &[],
        )
        .await
    }

    /// Logs in and answers the session token.
    pub async fn session_token(&self, email: &str, password: &str) -> String {
        let reply = self.login(email, password).await;
        reply.assert_status(201);
        reply.session().session.token
    }

    /// The mail the server sent so far (to `to`, if given), oldest first, as its `.eml` files
    /// hold it.
    pub async fn outbox(&self, to: Option<&str>) -> Vec<SentMail> {
        self.server()
            .outbox()
            .into_iter()
            .filter(|m| to.is_none_or(|to| m.to.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// Asks for a reset mail, waits for it and answers the token of its link.
    pub async fn reset_token_for(&self, email: &str) -> String {
        let before = self.reset_links(email).len();
        self.forgot(email).await.assert_status(202);
        token_of(&self.reset_link(email, before + 1).await)
    }
}

/// The database of the test servers in `dir`: a SQLite file there, or, when the tests run
/// against PostgreSQL (`UNIPOS_TEST_POSTGRES`), a database of that folder's own on the server.
pub fn database_in(dir: &Path) -> DbLocation {
    unipos_server::testing::database(dir)
}

/// The database of `dir`, opened beside its servers, for what a test reads or sets directly.
pub fn open_database(dir: &Path) -> Db {
    let location = database_in(dir);
    // On a thread of its own: PostgreSQL's blocking client must not run on the test's runtime.
    std::thread::scope(|s| {
        s.spawn(|| Db::open(&location, PoolSize::default()).unwrap())
            .join()
            .unwrap()
    })
}

/// Column 0 of the first row of a query on the database of `dir`.
pub fn query_value<T: unipos_server::sql::Column + Send>(
    dir: &Path,
    sql: &str,
    args: &[Arg<'_>],
) -> T {
    open_database(dir)
        .with(|c| -> Result<T, DbError> { c.value(sql, args) })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Everything the database of `dir` holds, as bytes to search: the SQLite file (and what is
/// left of its write-ahead log), or every row of every table as PostgreSQL prints it.
pub fn stored_bytes(dir: &Path) -> Vec<u8> {
    match database_in(dir) {
        DbLocation::Sqlite(path) => {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&name)
                {
                    bytes.extend(std::fs::read(&path).unwrap());
                }
            }
            assert!(!bytes.is_empty(), "no database file in {}", dir.display());
            bytes
        }
        DbLocation::Postgres(_) => open_database(dir)
            .with(|c| -> Result<Vec<u8>, DbError> {
                let tables = c.query_all(
                    "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
                     WHERE table_schema = 'public'",
                    &[],
                    |r| r.get::<String>(0),
                )?;
                let mut bytes = Vec::new();
                for table in tables {
                    let rows = c.query_all(
                        &format!("SELECT CAST(t AS TEXT) FROM {table} t"),
                        &[],
                        |r| r.get::<String>(0),
                    )?;
                    for row in rows {
                        bytes.extend(row.into_bytes());
                        bytes.push(b'\n');
                    }
                }
                Ok(bytes)
            })
            .unwrap(),
    }
}

/// A password the demo organisation's policy accepts, different per `n`.
pub fn good_password(n: u32) -> String {
    format!("New-password-{n}")
}

/// Moves the server's clock and gives the runtime a moment.
pub fn advance(clock: &Clock, secs: u64) {
    clock.advance(Duration::from_secs(secs));
}

/// Whole seconds from now until an RFC 3339 time (negative when past).
pub fn seconds_from_now(rfc3339: &str) -> i64 {
    let at = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"));
    (at - time::OffsetDateTime::now_utc()).whole_seconds()
}

/// A reqwest client builder for the tests' plain HTTP. In a workspace build reqwest carries TLS
/// without a crypto provider (the app's client installs ring), so ring is installed here too.
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
