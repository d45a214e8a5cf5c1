//! The table a migration tool keeps its own state in, which the tool creates before it applies
//! the first migration: a migration may alter it (a column recording a data version, say), and
//! the replay must know it is there. Each is described here by its columns and key as the tool
//! creates it on PostgreSQL; the tools that do not create one before the migrations run (a
//! `pg_dump` or Rails structure file creates its own, the plain and codegen layouts are this
//! linter's) have none.

use super::Layout;

impl Layout {
    /// The `CREATE TABLE` of the tool's bookkeeping table, created in the first schema of the
    /// `search_path` before the first migration.
    pub fn bookkeeping_table(self) -> Option<&'static str> {
        Some(match self {
            Layout::GolangMigrate => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)"
            }
            Layout::Dbmate => {
                "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)"
            }
            Layout::Goose => {
                "CREATE TABLE IF NOT EXISTS goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())"
            }
            Layout::Diesel => {
                "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version varchar(50) PRIMARY KEY, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            }
            Layout::Sqlx => {
                "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL, installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL, checksum bytea NOT NULL, execution_time bigint NOT NULL)"
            }
            Layout::Prisma => {
                "CREATE TABLE IF NOT EXISTS _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)"
            }
            Layout::Flyway => {
                "CREATE TABLE IF NOT EXISTS flyway_schema_history (installed_rank integer PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL)"
            }
            Layout::PostgresMigrations => {
                "CREATE TABLE IF NOT EXISTS migrations (id integer PRIMARY KEY, name varchar(100) UNIQUE NOT NULL, hash varchar(40) NOT NULL, executed_at timestamp DEFAULT CURRENT_TIMESTAMP)"
            }
            Layout::Plain | Layout::Codegen | Layout::PgDump => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bookkeeping_table_replays_into_a_table_with_a_primary_key() {
        for layout in Layout::ALL {
            let Some(sql) = layout.bookkeeping_table() else {
                continue;
            };
            let mut catalog = model::Catalog::default();
            model::replay::replay_script(&mut catalog, sql)
                .unwrap_or_else(|e| panic!("{layout:?}: {e:?}"));
            assert_eq!(catalog.tables.len(), 1, "{layout:?}");
            assert!(catalog.tables[0].primary_key.is_some(), "{layout:?}");
        }
    }
}
