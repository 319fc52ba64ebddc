//! One small query API over both stores, so that every query in `store.rs` is written once: SQL
//! with `?N` placeholders (rewritten to `$N` for PostgreSQL), arguments as [`Arg`], columns read
//! through [`Row::get`], and write transactions that take a lock first ([`Conn::immediate`]).

use std::collections::HashMap;

use postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// Every pooled connection stayed busy for the pool's whole wait.
    #[error("no database connection came free in time: {0}")]
    PoolTimeout(#[from] r2d2::Error),
    /// The database server cannot be reached now (it is down, or the network to it is): no
    /// connection is open and the last attempt to open one failed.
    #[error("the database cannot be reached: {0}")]
    Unreachable(String),
    #[error("the query answered no row")]
    NoRow,
    #[error("column {column}: {problem}")]
    Column { column: usize, problem: String },
}

impl DbError {
    /// A stable name for logs.
    pub fn code(&self) -> &'static str {
        match self {
            DbError::Sqlite(_) => "sqlite",
            DbError::Postgres(_) => "postgres",
            DbError::PoolTimeout(_) => "pool_timeout",
            DbError::Unreachable(_) => "unreachable",
            DbError::NoRow => "no_row",
            DbError::Column { .. } => "column",
        }
    }

    /// A part below the database is down rather than a query wrong: the server cannot reach
    /// PostgreSQL (refused, closed, shutting down), or SQLite's disk is full. Nothing was
    /// written; the same request works again once the part is back.
    pub fn is_outage(&self) -> bool {
        match self {
            DbError::Unreachable(_) => true,
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            DbError::Postgres(e) => pg_outage(e),
            _ => false,
        }
    }
}

/// A PostgreSQL error that says the server is gone or going: the connection closed, a socket
/// error, or the server's own "shutting down" / "cannot connect now" (class 08 and 57P0x).
pub(crate) fn pg_outage(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        let code = code.code();
        return code.starts_with("08") || code.starts_with("57P0");
    }
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if err.is::<std::io::Error>() {
            return true;
        }
        source = err.source();
    }
    false
}

pub type DbResult<T> = Result<T, DbError>;

/// A query argument. Its `Debug` shows a text's or bytes' length, never its content: drivers
/// log arguments at debug level, and some are tokens or hashes.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl std::fmt::Debug for Arg<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arg::Null => f.write_str("NULL"),
            Arg::Int(v) => write!(f, "{v}"),
            Arg::Bool(v) => write!(f, "{v}"),
            Arg::Text(v) => write!(f, "<text, {} bytes>", v.len()),
            Arg::Bytes(v) => write!(f, "<bytes, {}>", v.len()),
        }
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(v.into())
    }
}

impl From<u64> for Arg<'_> {
    fn from(v: u64) -> Self {
        Arg::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(v)
    }
}

impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// `args![a, b, …]`: the arguments of a query, each converted with `Arg::from`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => {
        &[$($crate::sql::Arg::from($arg)),*][..]
    };
}
pub(crate) use args;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match *self {
            Arg::Null => ToSqlOutput::Owned(Value::Null),
            Arg::Int(v) => ToSqlOutput::Owned(Value::Integer(v)),
            Arg::Bool(v) => ToSqlOutput::Owned(Value::Integer(v.into())),
            Arg::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Arg::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // The server infers each parameter's type from the query; integers fit the column.
        match *self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(v) => match *ty {
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Arg::Bool(v) => match *ty {
                Type::BOOL => v.to_sql(ty, out),
                _ => i64::from(v).to_sql(ty, out),
            },
            // Also right for citext, whose binary form is text's.
            Arg::Text(v) => v.to_sql(ty, out),
            Arg::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A row being read.
pub struct Row<'r, 's>(RowOf<'r, 's>);

enum RowOf<'r, 's> {
    Sqlite(&'r rusqlite::Row<'s>),
    Postgres(&'r postgres::Row),
}

impl Row<'_, '_> {
    /// Column `i` (0-based) as a `T`.
    pub fn get<T: Column>(&self, i: usize) -> DbResult<T> {
        match &self.0 {
            RowOf::Sqlite(r) => Ok(T::from_sqlite(r, i)?),
            RowOf::Postgres(r) => T::from_postgres(r, i),
        }
    }
}

/// A Rust type a column is read as.
pub trait Column: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self>;
}

fn column_error(column: usize, problem: impl std::fmt::Display) -> DbError {
    DbError::Column {
        column,
        problem: problem.to_string(),
    }
}

impl Column for Option<i64> {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self> {
        let ty = row
            .columns()
            .get(i)
            .ok_or_else(|| column_error(i, "no such column"))?
            .type_()
            .clone();
        Ok(match ty {
            Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from),
            Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(i64::from),
            Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(i64::from),
            _ => row.try_get::<_, Option<i64>>(i)?,
        })
    }
}

impl Column for i64 {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self> {
        Option::<i64>::from_postgres(row, i)?.ok_or_else(|| column_error(i, "NULL"))
    }
}

impl Column for u32 {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self> {
        u32::try_from(i64::from_postgres(row, i)?).map_err(|e| column_error(i, e))
    }
}

impl Column for u64 {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self> {
        u64::try_from(i64::from_postgres(row, i)?).map_err(|e| column_error(i, e))
    }
}

impl Column for bool {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self> {
        Ok(i64::from_postgres(row, i)? != 0)
    }
}

impl Column for Option<String> {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self> {
        Ok(row.try_get(i)?)
    }
}

impl Column for String {
    fn from_sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_postgres(row: &postgres::Row, i: usize) -> DbResult<Self> {
        Option::<String>::from_postgres(row, i)?.ok_or_else(|| column_error(i, "NULL"))
    }
}

/// A pooled PostgreSQL connection and the statements it has prepared.
pub struct PgConn {
    /// Always `Some` until dropped.
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
}

impl PgConn {
    pub(crate) fn new(client: postgres::Client) -> PgConn {
        PgConn {
            client: Some(client),
            statements: HashMap::new(),
        }
    }

    #[allow(
        clippy::expect_used,
        reason = "the client is taken only when the connection is dropped"
    )]
    pub(crate) fn client(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("a connection has its client until dropped")
    }

    fn statement(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client().prepare(&dollar_placeholders(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Closing the blocking client runs its own small runtime, which must not happen on a
        // thread of the server's (a pool may be dropped anywhere): close it on a thread of its own.
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            }
        }
    }
}

/// `?1` → `$1`: the store's SQL in PostgreSQL's placeholder syntax. (No query has a `?` in a
/// string literal.)
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn pg_args<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

/// A connection to either store, lent for one piece of work.
pub struct Conn<'a>(ConnOf<'a>);

enum ConnOf<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut PgConn),
}

impl<'a> Conn<'a> {
    pub(crate) fn sqlite(conn: &'a rusqlite::Connection) -> Conn<'a> {
        Conn(ConnOf::Sqlite(conn))
    }

    pub(crate) fn postgres(conn: &'a mut PgConn) -> Conn<'a> {
        Conn(ConnOf::Postgres(conn))
    }

    /// Whether this is a PostgreSQL connection.
    pub fn is_postgres(&self) -> bool {
        matches!(self.0, ConnOf::Postgres(_))
    }

    /// Runs one statement; answers how many rows it changed.
    pub fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> DbResult<u64> {
        match &mut self.0 {
            ConnOf::Sqlite(c) => {
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(args))? as u64)
            }
            ConnOf::Postgres(c) => {
                let statement = c.statement(sql)?;
                Ok(c.client().execute(&statement, &pg_args(args))?)
            }
        }
    }

    /// Runs statements without arguments, one after the other (schema steps).
    pub fn batch(&mut self, sql: &str) -> DbResult<()> {
        match &mut self.0 {
            ConnOf::Sqlite(c) => Ok(c.execute_batch(sql)?),
            ConnOf::Postgres(c) => Ok(c.client().batch_execute(sql)?),
        }
    }

    /// Every row the query answers, each read by `read`.
    pub fn query_all<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        mut read: impl FnMut(&Row<'_, '_>) -> DbResult<T>,
    ) -> DbResult<Vec<T>> {
        let mut out = Vec::new();
        match &mut self.0 {
            ConnOf::Sqlite(c) => {
                let mut statement = c.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(args))?;
                while let Some(row) = rows.next()? {
                    out.push(read(&Row(RowOf::Sqlite(row)))?);
                }
            }
            ConnOf::Postgres(c) => {
                let statement = c.statement(sql)?;
                for row in c.client().query(&statement, &pg_args(args))? {
                    out.push(read(&Row(RowOf::Postgres(&row)))?);
                }
            }
        }
        Ok(out)
    }

    /// The first row the query answers, if any, read by `read`.
    pub fn query_opt<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        read: impl FnOnce(&Row<'_, '_>) -> DbResult<T>,
    ) -> DbResult<Option<T>> {
        match &mut self.0 {
            ConnOf::Sqlite(c) => {
                let mut statement = c.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(args))?;
                match rows.next()? {
                    Some(row) => Ok(Some(read(&Row(RowOf::Sqlite(row)))?)),
                    None => Ok(None),
                }
            }
            ConnOf::Postgres(c) => {
                let statement = c.statement(sql)?;
                match c.client().query_opt(&statement, &pg_args(args))? {
                    Some(row) => Ok(Some(read(&Row(RowOf::Postgres(&row)))?)),
                    None => Ok(None),
                }
            }
        }
    }

    /// The first row the query answers, read by `read`; [`DbError::NoRow`] when there is none.
    pub fn query_one<T>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        read: impl FnOnce(&Row<'_, '_>) -> DbResult<T>,
    ) -> DbResult<T> {
        self.query_opt(sql, args, read)?.ok_or(DbError::NoRow)
    }

    /// Column 0 of the first row.
    pub fn value<T: Column>(&mut self, sql: &str, args: &[Arg<'_>]) -> DbResult<T> {
        self.query_one(sql, args, |r| r.get(0))
    }

    /// Begins a write transaction. On SQLite it holds the database's write lock from the start
    /// (other writers wait for it), so what it reads stays true until it commits. On PostgreSQL
    /// it first takes the transaction-scoped advisory lock named `lock`: transactions that read,
    /// decide and write the same state (a login key's attempts, a member's password) name the
    /// same lock, and so run one after the other, as on SQLite.
    pub fn immediate(&mut self, lock: &str) -> DbResult<Tx<'_, 'a>> {
        match &mut self.0 {
            ConnOf::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            ConnOf::Postgres(c) => {
                c.client().batch_execute("BEGIN")?;
                let key = [Arg::Text(lock)];
                let locked = c
                    .statement("SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))")
                    .and_then(|s| Ok(c.client().execute(&s, &pg_args(&key))?));
                if let Err(e) = locked {
                    let _ = c.client().batch_execute("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }
}

/// A write transaction: rolled back when dropped without [`Tx::commit`].
pub struct Tx<'c, 'a> {
    conn: &'c mut Conn<'a>,
    open: bool,
}

impl Tx<'_, '_> {
    pub fn commit(mut self) -> DbResult<()> {
        self.conn.batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl<'a> std::ops::Deref for Tx<'_, 'a> {
    type Target = Conn<'a>;
    fn deref(&self) -> &Conn<'a> {
        self.conn
    }
}

impl<'a> std::ops::DerefMut for Tx<'_, 'a> {
    fn deref_mut(&mut self) -> &mut Conn<'a> {
        self.conn
    }
}

impl Drop for Tx<'_, '_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_postgres_and_nothing_else_is() {
        assert_eq!(
            dollar_placeholders("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?12) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $12) AND d = '?'"
        );
    }

    #[test]
    fn a_dropped_transaction_is_rolled_back_and_a_committed_one_kept() {
        let db = crate::db::Db::for_unit_test();
        let all = db
            .with(|conn| -> DbResult<Vec<i64>> {
                conn.batch("CREATE TABLE t (v BIGINT)")?;
                {
                    let mut tx = conn.immediate("t")?;
                    tx.execute("INSERT INTO t (v) VALUES (?1)", args![1i64])?;
                }
                let tx = {
                    let mut tx = conn.immediate("t")?;
                    tx.execute("INSERT INTO t (v) VALUES (?1)", args![2i64])?;
                    tx
                };
                tx.commit()?;
                conn.query_all("SELECT v FROM t", args![], |r| r.get::<i64>(0))
            })
            .unwrap();
        assert_eq!(all, vec![2]);
    }

    #[test]
    fn arguments_print_without_their_content() {
        let shown = format!(
            "{:?}",
            args!["secret-token", &b"hash"[..], 3i64, None::<i64>]
        );
        assert_eq!(shown, "[<text, 12 bytes>, <bytes, 4>, 3, NULL]");
    }

    /// On the store the tests run against: SQLite, or PostgreSQL under `scripts/api-postgres.sh`.
    #[test]
    fn arguments_and_columns_round_trip() {
        let db = crate::db::Db::for_unit_test();
        let (row, none) = db
            .with(|conn| -> DbResult<_> {
                let row = conn.query_one(
                    "SELECT CAST(?1 AS BIGINT), CAST(?2 AS BOOLEAN), CAST(?3 AS TEXT), \
                     CAST(?4 AS TEXT), CAST(?5 AS BIGINT)",
                    args![7u32, true, "text", None::<&str>, Some(-3i64)],
                    |r| {
                        Ok((
                            r.get::<u32>(0)?,
                            r.get::<bool>(1)?,
                            r.get::<String>(2)?,
                            r.get::<Option<String>>(3)?,
                            r.get::<Option<i64>>(4)?,
                        ))
                    },
                )?;
                let none = conn.query_one("SELECT 1 WHERE 1 = 0", args![], |r| r.get::<i64>(0));
                Ok((row, none))
            })
            .unwrap();
        assert_eq!(row, (7, true, "text".to_owned(), None, Some(-3)));
        assert!(matches!(none, Err(DbError::NoRow)), "{none:?}");
    }
}
