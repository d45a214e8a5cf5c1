//! Where the generated methods run their statements: any `postgres::GenericClient` (a `Client`
//! or a `Transaction`: each statement parsed and planned by the server on every call), or a
//! connection wrapped in [`Prepared`], which prepares each statement once per connection and
//! reuses it.
//!
//! Why a wrapper rather than a cache inside the methods: a prepared statement belongs to one
//! connection, and `GenericClient` says nothing about which connection it is. The wrapper owns
//! (or borrows) its connection, so its cache answers for that connection only. (Replacing the
//! connection in place through [`Prepared::client`] would leave the cache behind: statement names
//! are unique in the process, so the next call fails once with SQLSTATE 26000 and the cache
//! starts over; no other statement ever runs.)
//!
//! Only statements with one good plan whatever their values are prepared (insert, get, update,
//! soft delete, restore, hard delete: all by primary key). Listings and finders are planned for
//! their actual keyset bounds, JSON filter and limit on every call, as on a plain client: a
//! generic plan chosen after a few runs could give up an index for some values, and
//! `explain_find_*` would no longer show the plan that runs.

use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Error, GenericClient, Row, Statement, Transaction};

/// A parameter and the type it is sent as.
pub type Param<'a> = (&'a (dyn ToSql + Sync), Type);

/// Runs one statement with typed parameters and returns its rows. Implemented for every
/// `postgres::GenericClient` (one round trip, nothing kept on the server), for [`Prepared`] and
/// for [`PreparedTransaction`].
pub trait Executor {
    /// A statement whose plan does not depend on its values: prepared once where that is
    /// possible.
    fn run(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error>;

    /// A statement planned for its values on every call (listings): never prepared.
    fn run_unprepared(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error>;
}

impl<C: GenericClient> Executor for C {
    fn run(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        self.query_typed(statement, params)
    }

    fn run_unprepared(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        self.query_typed(statement, params)
    }
}

/// What a [`Prepared`] can wrap: a connection it owns (`Client`, `Transaction`) or borrows
/// (`&mut Client`).
pub trait Connection {
    type Client: GenericClient;

    fn connection(&mut self) -> &mut Self::Client;
}

impl Connection for Client {
    type Client = Client;

    fn connection(&mut self) -> &mut Client {
        self
    }
}

impl<'a> Connection for Transaction<'a> {
    type Client = Transaction<'a>;

    fn connection(&mut self) -> &mut Transaction<'a> {
        self
    }
}

impl<T: Connection + ?Sized> Connection for &mut T {
    type Client = T::Client;

    fn connection(&mut self) -> &mut T::Client {
        (**self).connection()
    }
}

/// The statements one connection has prepared, by text. Bounded: past [`Statements::LIMIT`]
/// distinct texts it starts over (the generated methods use a few per table).
#[derive(Debug, Default)]
struct Statements(HashMap<String, (Vec<Type>, Statement), foldhash::fast::FixedState>);

impl Statements {
    const LIMIT: usize = 512;

    fn run<C: GenericClient>(
        &mut self,
        client: &mut C,
        statement: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<Row>, Error> {
        let prepared = match self.0.get(statement) {
            Some((known, prepared)) if known.iter().eq(params.iter().map(|(_, t)| t)) => {
                prepared.clone()
            }
            _ => {
                let types: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
                let prepared = client.prepare_typed(statement, &types)?;
                if self.0.len() >= Self::LIMIT {
                    self.0.clear();
                }
                self.0
                    .insert(statement.to_owned(), (types, prepared.clone()));
                prepared
            }
        };
        let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
        client.query(&prepared, &values).inspect_err(|e| {
            if stale(e) {
                self.0.clear();
            }
        })
    }
}

/// Whether the server no longer has the prepared statement as it was prepared: gone
/// (`DEALLOCATE ALL`, `DISCARD ALL`, which take every one: 26000), or its result columns changed
/// type since (`ALTER TABLE ... TYPE`: 0A000). Either way every statement is prepared again on
/// its next use.
fn stale(e: &Error) -> bool {
    match e.code() {
        Some(code) if *code == SqlState::INVALID_SQL_STATEMENT_NAME => true,
        Some(code) if *code == SqlState::FEATURE_NOT_SUPPORTED => {
            e.as_db_error().is_some_and(|db| {
                db.message()
                    .contains("cached plan must not change result type")
            })
        }
        _ => false,
    }
}

/// A connection (a `postgres::Client` or `Transaction`, owned or borrowed) whose repository
/// statements are prepared once and reused: the server parses and plans each audited statement
/// the first time only. Pass `&mut Prepared<_>` wherever a generated method takes a client.
/// The statements live as long as the wrapper: wrap a connection you keep (a worker's, or have
/// your pool hand out `Prepared<Client>`); a wrapper made per request pays an extra round trip
/// for each statement's first use and gains nothing.
///
/// ```no_run
/// # fn demo(client: postgres::Client) -> Result<(), postgres::Error> {
/// let mut db = repo_runtime::Prepared::new(client);
/// // Case::insert(&mut db, actor, &new_case)?;          (prepared on first use)
/// let mut tx = db.transaction()?;                       // shares the prepared statements
/// // Case::update(&mut tx, actor, &id, &patch)?;
/// tx.commit()?;
/// # Ok(()) }
/// ```
///
/// Two things fail one call each (`RepoError::Database`), after which every statement is prepared
/// again: statements removed behind its back (`DEALLOCATE ALL`, `DISCARD ALL`: SQLSTATE 26000;
/// these also remove the `postgres` crate's own type-lookup statement, so avoid them on a
/// connection you keep), and a migration that changes the type of a column the statement
/// returns (0A000, "cached plan must not change result type"). Behind a pooler in transaction
/// mode (PgBouncer), where consecutive transactions may run on different server connections,
/// use a plain `Client` instead.
#[derive(Debug)]
pub struct Prepared<C> {
    client: C,
    statements: Statements,
}

impl<C: Connection> Prepared<C> {
    pub fn new(client: C) -> Self {
        Prepared {
            client,
            statements: Statements::default(),
        }
    }

    /// The connection, for statements of your own.
    pub fn client(&mut self) -> &mut C::Client {
        self.client.connection()
    }

    /// The connection back; its prepared statements are closed as it goes on.
    pub fn into_inner(self) -> C {
        self.client
    }

    /// Begins a transaction that uses (and adds to) this connection's prepared statements.
    pub fn transaction(&mut self) -> Result<PreparedTransaction<'_>, Error> {
        Ok(PreparedTransaction {
            transaction: self.client.connection().transaction()?,
            statements: &mut self.statements,
        })
    }

    /// How many statements are prepared.
    pub fn prepared_statements(&self) -> usize {
        self.statements.0.len()
    }
}

impl<C: Connection> Executor for Prepared<C> {
    fn run(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        self.statements
            .run(self.client.connection(), statement, params)
    }

    fn run_unprepared(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        self.client.connection().query_typed(statement, params)
    }
}

/// A transaction of a [`Prepared`] connection. Like `postgres::Transaction`, it rolls back when
/// dropped without [`PreparedTransaction::commit`]. Statements prepared inside it stay prepared
/// after it ends (preparing is not transactional).
pub struct PreparedTransaction<'a> {
    transaction: Transaction<'a>,
    statements: &'a mut Statements,
}

impl<'a> PreparedTransaction<'a> {
    /// The transaction, for statements of your own.
    pub fn transaction(&mut self) -> &mut Transaction<'a> {
        &mut self.transaction
    }

    pub fn commit(self) -> Result<(), Error> {
        self.transaction.commit()
    }

    pub fn rollback(self) -> Result<(), Error> {
        self.transaction.rollback()
    }
}

impl std::fmt::Debug for PreparedTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedTransaction")
            .field("statements", &self.statements)
            .finish_non_exhaustive()
    }
}

impl Executor for PreparedTransaction<'_> {
    fn run(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        self.statements
            .run(&mut self.transaction, statement, params)
    }

    fn run_unprepared(&mut self, statement: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Error> {
        self.transaction.query_typed(statement, params)
    }
}

/// Runs one statement with typed parameters and returns its rows, asynchronously: what the
/// generated `*_async` methods run on. Implemented for a `tokio_postgres::Client` and
/// `Transaction` (one round trip each, nothing kept on the server, like a plain `postgres`
/// client) and, with the `deadpool` feature, for a pooled `deadpool_postgres::Client` and its
/// `Transaction`, which prepare the by-key statements once per connection in the pool's
/// statement cache (what [`Prepared`] does for a blocking connection).
///
/// The statements, their audit rows, parameters and errors are those of the blocking methods:
/// both run the same bodies (`exec.rs`) over the same SQL (`sql.rs`).
pub trait AsyncExecutor {
    /// A statement whose plan does not depend on its values: prepared once where that is
    /// possible.
    fn run(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;

    /// A statement planned for its values on every call (listings): never prepared.
    fn run_unprepared(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send;
}

/// `AsyncExecutor` for plain tokio-postgres connections: both kinds of statement by
/// `query_typed` (one round trip, nothing prepared), as a plain blocking client runs them.
macro_rules! query_typed_executor {
    ($($client:ty),*) => {$(
        impl AsyncExecutor for $client {
            fn run(
                &mut self,
                statement: &str,
                params: &[Param<'_>],
            ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
                self.query_typed(statement, params)
            }

            fn run_unprepared(
                &mut self,
                statement: &str,
                params: &[Param<'_>],
            ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
                self.query_typed(statement, params)
            }
        }
    )*};
}

query_typed_executor!(tokio_postgres::Client, tokio_postgres::Transaction<'_>);

/// Prepares `statement` through a deadpool statement cache (by text and parameter types) and
/// runs it; a statement the server no longer has as prepared empties the cache (see [`stale`]).
#[cfg(feature = "deadpool")]
async fn run_cached(
    cache: &deadpool_postgres::StatementCache,
    client: &tokio_postgres::Client,
    statement: &str,
    params: &[Param<'_>],
) -> Result<Vec<Row>, Error> {
    let types: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
    let prepared = cache.prepare_typed(client, statement, &types).await?;
    let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
    client.query(&prepared, &values).await.inspect_err(|e| {
        if stale(e) {
            cache.clear();
        }
    })
}

#[cfg(feature = "deadpool")]
impl AsyncExecutor for deadpool_postgres::Client {
    fn run(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        let wrapper: &deadpool_postgres::ClientWrapper = self;
        run_cached(&wrapper.statement_cache, wrapper, statement, params)
    }

    fn run_unprepared(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        let client: &tokio_postgres::Client = self;
        client.query_typed(statement, params)
    }
}

#[cfg(feature = "deadpool")]
impl AsyncExecutor for deadpool_postgres::Transaction<'_> {
    fn run(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        let transaction: &tokio_postgres::Transaction<'_> = self;
        run_cached(
            &self.statement_cache,
            transaction.client(),
            statement,
            params,
        )
    }

    fn run_unprepared(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        let transaction: &tokio_postgres::Transaction<'_> = self;
        transaction.query_typed(statement, params)
    }
}

/// A blocking [`Executor`] seen as an [`AsyncExecutor`]: each call runs to its end before it
/// returns, and its future is ready at once. How the blocking methods share the async bodies.
pub(crate) struct Blocking<'c, C: ?Sized>(pub(crate) &'c mut C);

impl<C: Executor + ?Sized> AsyncExecutor for Blocking<'_, C> {
    fn run(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        std::future::ready(self.0.run(statement, params))
    }

    fn run_unprepared(
        &mut self,
        statement: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, Error>> + Send {
        std::future::ready(self.0.run_unprepared(statement, params))
    }
}

/// The result of `body`, a repository body running on [`Blocking`]: it awaits nothing but ready
/// futures, so one poll finishes it. Were it ever pending (a bug), the call fails with an error
/// instead of hanging or panicking.
pub(crate) fn blocking<T>(
    body: impl Future<Output = Result<T, crate::RepoError>>,
) -> Result<T, crate::RepoError> {
    let mut body = std::pin::pin!(body);
    match body
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err(crate::RepoError::Database(
            crate::error::DatabaseError::client("a blocking repository call did not complete"),
        )),
    }
}
