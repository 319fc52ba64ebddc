//! The schema of each store, as ordered steps, and running the steps a database lacks. Both
//! stores end up with the same tables and columns, so one set of queries (`store.rs`) serves
//! both; where SQLite says `COLLATE NOCASE`, PostgreSQL has `citext`.

use anyhow::Context;
use rusqlite::OptionalExtension;

/// Ordered schema steps; `PRAGMA user_version` says how many have run. Never edit a shipped step:
/// append a new one.
pub const SQLITE: &[&str] = &[
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
    // 4: ids the queries can name on every store: failed logins get their own key, and posts a
    // sequence (their order of insertion) beside their public id.
    r#"
    CREATE TABLE login_failures_keyed (
        id        INTEGER PRIMARY KEY,
        login_key TEXT NOT NULL,
        failed_at INTEGER NOT NULL
    );
    INSERT INTO login_failures_keyed (id, login_key, failed_at)
        SELECT rowid, login_key, failed_at FROM login_failures;
    DROP TABLE login_failures;
    ALTER TABLE login_failures_keyed RENAME TO login_failures;
    CREATE INDEX login_failures_by_key ON login_failures(login_key, failed_at);
    CREATE TABLE posts_keyed (
        seq        INTEGER PRIMARY KEY,
        id         TEXT NOT NULL UNIQUE,
        team_id    INTEGER NOT NULL REFERENCES teams(id),
        from_name  TEXT NOT NULL,
        to_name    TEXT NOT NULL,
        message    TEXT NOT NULL,
        points     INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    INSERT INTO posts_keyed (seq, id, team_id, from_name, to_name, message, points, created_at)
        SELECT rowid, id, team_id, from_name, to_name, message, points, created_at FROM posts;
    DROP TABLE posts;
    ALTER TABLE posts_keyed RENAME TO posts;
    CREATE INDEX posts_by_team ON posts(team_id, created_at);
    "#,
    // 5: team admins; members without a password (added by an admin and not yet signed up, or
    // whose password an admin reset: the old hash is kept apart, only to tell its owner what
    // happened); why a session ended; the mail an admin's reset sends. SQLite cannot drop a
    // CHECK, so `users` and `mail_outbox` are rebuilt (foreign keys are off while migrating).
    r#"
    CREATE TABLE users_new (
        id                     TEXT PRIMARY KEY,
        team_id                INTEGER NOT NULL REFERENCES teams(id),
        email                  TEXT,
        email_normalized       TEXT UNIQUE,
        login_id               TEXT COLLATE NOCASE,
        display_name           TEXT NOT NULL,
        login_method           TEXT NOT NULL CHECK (login_method IN ('email', 'login_id', 'sso')),
        password_hash          TEXT,
        password_changed_at    INTEGER,
        created_at             INTEGER NOT NULL,
        password_form          TEXT NOT NULL DEFAULT 'as_typed'
            CHECK (password_form IN ('nfkc', 'as_typed')),
        role                   TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
        previous_password_hash TEXT,
        password_reset_at      INTEGER,
        UNIQUE (team_id, login_id),
        CHECK ((email IS NULL) = (email_normalized IS NULL)),
        CHECK (login_method <> 'login_id' OR login_id IS NOT NULL),
        CHECK (login_method = 'login_id' OR email IS NOT NULL)
    );
    INSERT INTO users_new (id, team_id, email, email_normalized, login_id, display_name,
        login_method, password_hash, password_changed_at, created_at, password_form)
        SELECT id, team_id, email, email_normalized, login_id, display_name, login_method,
            password_hash, password_changed_at, created_at, password_form FROM users;
    DROP TABLE users;
    ALTER TABLE users_new RENAME TO users;
    CREATE INDEX users_by_team ON users(team_id, display_name);
    ALTER TABLE sessions ADD COLUMN revoked_reason TEXT;
    CREATE TABLE mail_outbox_new (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        kind         TEXT NOT NULL
            CHECK (kind IN ('reset_request', 'password_changed', 'admin_reset')),
        to_addr      TEXT NOT NULL,
        display_name TEXT,
        token        TEXT,
        request_id   TEXT,
        created_at   INTEGER NOT NULL,
        not_before   INTEGER NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        sent_at      INTEGER
    );
    INSERT INTO mail_outbox_new SELECT id, kind, to_addr, display_name, token, request_id,
        created_at, not_before, attempts, sent_at FROM mail_outbox;
    DROP TABLE mail_outbox;
    ALTER TABLE mail_outbox_new RENAME TO mail_outbox;
    CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, not_before);
    "#,
    // 6: a reset link bound to the app that asked for it (RFC 7636's S256 challenge; the
    // verifier stays in the app's keychain): carried from the request to the token.
    r#"
    ALTER TABLE mail_outbox ADD COLUMN code_challenge TEXT;
    ALTER TABLE reset_tokens ADD COLUMN code_challenge TEXT;
    "#,
    // 7: SSO by email domain, per organisation: a login with an address in one of these domains
    // is told to use SSO whether or not the address belongs to a member, so the answer says
    // nothing about who is one. Domains are stored lowercased.
    r#"
    CREATE TABLE sso_domains (
        domain     TEXT PRIMARY KEY COLLATE NOCASE,
        team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX sso_domains_by_team ON sso_domains(team_id);
    "#,
    // 8: the language a mail is written in, from the request that caused it (`lang`, else
    // `Accept-Language`); mail queued by an older server goes out in English, as it would have.
    r#"
    ALTER TABLE mail_outbox ADD COLUMN lang TEXT NOT NULL DEFAULT 'en'
        CHECK (lang IN ('en', 'ja'));
    "#,
];

/// Ordered schema steps for PostgreSQL; the `unipos_schema` table says how many have run. Never
/// edit a shipped step: append a new one.
pub const POSTGRES: &[&str] = &[
    // 1: the tables of SQLite's steps 1 to 4.
    r#"
    CREATE EXTENSION IF NOT EXISTS citext;
    CREATE TABLE teams (
        id             BIGSERIAL PRIMARY KEY,
        slug           CITEXT NOT NULL UNIQUE,
        name           TEXT NOT NULL,
        min_length     BIGINT NOT NULL,
        max_length     BIGINT NOT NULL,
        require_lower  BOOLEAN NOT NULL,
        require_upper  BOOLEAN NOT NULL,
        require_digit  BOOLEAN NOT NULL,
        require_symbol BOOLEAN NOT NULL,
        created_at     BIGINT NOT NULL
    );
    CREATE TABLE users (
        id                  TEXT PRIMARY KEY,
        team_id             BIGINT NOT NULL REFERENCES teams(id),
        email               TEXT,
        email_normalized    TEXT UNIQUE,
        login_id            CITEXT,
        display_name        TEXT NOT NULL,
        login_method        TEXT NOT NULL CHECK (login_method IN ('email', 'login_id', 'sso')),
        password_hash       TEXT,
        password_changed_at BIGINT,
        created_at          BIGINT NOT NULL,
        password_form       TEXT NOT NULL DEFAULT 'as_typed'
            CHECK (password_form IN ('nfkc', 'as_typed')),
        UNIQUE (team_id, login_id),
        CHECK ((email IS NULL) = (email_normalized IS NULL)),
        CHECK (login_method <> 'login_id' OR login_id IS NOT NULL),
        CHECK (login_method = 'login_id' OR email IS NOT NULL),
        CHECK (login_method = 'sso' OR password_hash IS NOT NULL)
    );
    CREATE TABLE sessions (
        id         BIGSERIAL PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash BYTEA NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE reset_tokens (
        id            BIGSERIAL PRIMARY KEY,
        user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash    BYTEA NOT NULL UNIQUE,
        created_at    BIGINT NOT NULL,
        expires_at    BIGINT NOT NULL,
        used_at       BIGINT,
        superseded_at BIGINT,
        revoked_at    BIGINT
    );
    CREATE INDEX reset_tokens_by_user ON reset_tokens(user_id);
    CREATE TABLE login_failures (
        id        BIGSERIAL PRIMARY KEY,
        login_key TEXT NOT NULL,
        failed_at BIGINT NOT NULL
    );
    CREATE INDEX login_failures_by_key ON login_failures(login_key, failed_at);
    CREATE TABLE login_locks (
        login_key    TEXT PRIMARY KEY,
        locked_until BIGINT NOT NULL
    );
    CREATE TABLE suppressed_emails (
        email_normalized TEXT PRIMARY KEY,
        reason           TEXT NOT NULL,
        created_at       BIGINT NOT NULL
    );
    CREATE TABLE posts (
        seq        BIGSERIAL PRIMARY KEY,
        id         TEXT NOT NULL UNIQUE,
        team_id    BIGINT NOT NULL REFERENCES teams(id),
        from_name  TEXT NOT NULL,
        to_name    TEXT NOT NULL,
        message    TEXT NOT NULL,
        points     BIGINT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX posts_by_team ON posts(team_id, created_at);
    CREATE TABLE rate_events (
        scope TEXT NOT NULL,
        key   TEXT NOT NULL,
        at    BIGINT NOT NULL
    );
    CREATE INDEX rate_events_by_key ON rate_events(scope, key, at);
    CREATE INDEX rate_events_by_time ON rate_events(at);
    CREATE TABLE mail_outbox (
        id           BIGSERIAL PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('reset_request', 'password_changed')),
        to_addr      TEXT NOT NULL,
        display_name TEXT,
        token        TEXT,
        request_id   TEXT,
        created_at   BIGINT NOT NULL,
        not_before   BIGINT NOT NULL,
        attempts     BIGINT NOT NULL DEFAULT 0,
        sent_at      BIGINT
    );
    CREATE INDEX mail_outbox_due ON mail_outbox(sent_at, not_before);
    "#,
    // 2: SQLite's step 5 (team admins, members without a password, why a session ended, the
    // mail an admin's reset sends). The CHECKs to drop are found by what they say: PostgreSQL
    // named them itself.
    r#"
    ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
        CHECK (role IN ('member', 'admin'));
    ALTER TABLE users ADD COLUMN previous_password_hash TEXT;
    ALTER TABLE users ADD COLUMN password_reset_at BIGINT;
    CREATE INDEX users_by_team ON users(team_id, display_name);
    ALTER TABLE sessions ADD COLUMN revoked_reason TEXT;
    DO $$
    DECLARE c record;
    BEGIN
        FOR c IN SELECT conrelid::regclass::text AS tab, conname FROM pg_constraint
                 WHERE contype = 'c' AND (
                     (conrelid = 'users'::regclass
                         AND pg_get_constraintdef(oid) LIKE '%password_hash IS NOT NULL%')
                     OR (conrelid = 'mail_outbox'::regclass
                         AND pg_get_constraintdef(oid) LIKE '%reset_request%'))
        LOOP
            EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', c.tab, c.conname);
        END LOOP;
    END $$;
    ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
        CHECK (kind IN ('reset_request', 'password_changed', 'admin_reset'));
    "#,
    // 3: SQLite's step 6 (a reset link bound to the app that asked for it).
    r#"
    ALTER TABLE mail_outbox ADD COLUMN code_challenge TEXT;
    ALTER TABLE reset_tokens ADD COLUMN code_challenge TEXT;
    "#,
    // 4: SQLite's step 7 (SSO by email domain, per organisation).
    r#"
    CREATE TABLE sso_domains (
        domain     CITEXT PRIMARY KEY,
        team_id    BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX sso_domains_by_team ON sso_domains(team_id);
    "#,
    // 5: SQLite's step 8 (the language a mail is written in).
    r#"
    ALTER TABLE mail_outbox ADD COLUMN lang TEXT NOT NULL DEFAULT 'en'
        CHECK (lang IN ('en', 'ja'));
    "#,
];

fn too_new(version: usize, known: usize) -> anyhow::Error {
    anyhow::anyhow!(
        "the database has schema version {version}, newer than this server knows ({known}): use a newer server"
    )
}

/// Runs the SQLite steps the file lacks, all in one write transaction: a second server starting
/// at the same moment waits for it (busy timeout), then finds nothing left to do.
///
/// Foreign keys are off while the steps run (a step that rebuilds a table drops the old one,
/// which would otherwise delete the rows that refer to it), and checked before the commit, as
/// SQLite's procedure for altering a table says; they are on again afterwards.
pub fn migrate_sqlite(conn: &mut rusqlite::Connection) -> anyhow::Result<()> {
    migrate_sqlite_to(conn, SQLITE.len())
}

/// [`migrate_sqlite`] up to step `target` only (a database as an older server left it).
pub fn migrate_sqlite_to(conn: &mut rusqlite::Connection, target: usize) -> anyhow::Result<()> {
    conn.pragma_update(None, "foreign_keys", false)?;
    let migrated = run_sqlite_steps(conn, target);
    conn.pragma_update(None, "foreign_keys", true)?;
    migrated
}

fn run_sqlite_steps(conn: &mut rusqlite::Connection, target: usize) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SQLITE.len() {
        return Err(too_new(version, SQLITE.len()));
    }
    for (index, step) in SQLITE[..target].iter().enumerate().skip(version) {
        tx.execute_batch(step)
            .with_context(|| format!("schema step {}", index + 1))?;
        tx.pragma_update(None, "user_version", index + 1)?;
    }
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    if let Some(table) = broken {
        anyhow::bail!("after migrating, a row of {table} refers to a row that is gone");
    }
    tx.commit()?;
    Ok(())
}

/// Runs the PostgreSQL steps the database lacks, in one transaction under an advisory lock: a
/// second server starting at the same moment waits for it, then finds nothing left to do.
pub fn migrate_postgres(client: &mut postgres::Client) -> anyhow::Result<()> {
    migrate_postgres_to(client, POSTGRES.len())
}

/// [`migrate_postgres`] up to step `target` only (a database as an older server left it).
pub fn migrate_postgres_to(client: &mut postgres::Client, target: usize) -> anyhow::Result<()> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('unipos_schema', 0))",
        &[],
    )?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS unipos_schema (version BIGINT NOT NULL)")?;
    let version = match tx.query_opt("SELECT version FROM unipos_schema", &[])? {
        Some(row) => usize::try_from(row.get::<_, i64>(0))?,
        None => {
            tx.execute("INSERT INTO unipos_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if version > POSTGRES.len() {
        return Err(too_new(version, POSTGRES.len()));
    }
    for (index, step) in POSTGRES[..target].iter().enumerate().skip(version) {
        tx.batch_execute(step)
            .with_context(|| format!("schema step {}", index + 1))?;
        tx.execute(
            "UPDATE unipos_schema SET version = $1",
            &[&i64::try_from(index + 1)?],
        )?;
    }
    tx.commit()?;
    Ok(())
}
