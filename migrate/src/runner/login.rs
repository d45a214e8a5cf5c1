//! `codegen db grant-login`: let an application's login role act as each role the migrations
//! create.

use super::Runner;
use crate::history;

impl Runner {
    /// Lets the existing role `login` `SET ROLE` to every role the migrations create (`GRANT
    /// <role> TO <login>`), as an application that runs each request under its caller's role
    /// needs (the seed's service). Creating the login, and choosing its password, stays the
    /// operator's. Granting again changes nothing. Returns the roles, in name order.
    pub fn grant_roles_to(&mut self, login: &str) -> Result<Vec<String>, String> {
        let catalog = history::replay(&self.migrations).map_err(|e| format!("error: {e}"))?;
        let roles: Vec<String> = catalog.roles().into_iter().map(str::to_string).collect();
        if roles.is_empty() {
            return Err("error: the migrations create no role to grant".to_string());
        }
        if roles.iter().any(|r| r == login) {
            return Err(format!(
                "error: `{login}` is one of the schema's roles ({}); grant them to the role the application signs in as",
                roles.join(", ")
            ));
        }
        let mut tx = self
            .client
            .transaction()
            .map_err(|e| Self::sql_error("cannot begin a transaction", &e))?;
        let exists = |tx: &mut postgres::Transaction<'_>, name: &str| {
            tx.query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
                .map(|row| row.is_some())
                .map_err(|e| Self::sql_error("cannot read pg_roles", &e))
        };
        if !exists(&mut tx, login)? {
            return Err(format!(
                "error: there is no role `{login}`: create it first (CREATE ROLE {} LOGIN PASSWORD '...')",
                model::ident::quote(login)
            ));
        }
        for role in &roles {
            if !exists(&mut tx, role)? {
                return Err(format!(
                    "error: the role `{role}` does not exist yet: apply the migrations first (codegen db upgrade)"
                ));
            }
            let grant = format!(
                "GRANT {} TO {}",
                model::ident::quote(role),
                model::ident::quote(login)
            );
            tx.batch_execute(&grant)
                .map_err(|e| Self::sql_error(&format!("{grant} failed"), &e))?;
        }
        tx.commit()
            .map_err(|e| Self::sql_error("cannot commit the grants", &e))?;
        Ok(roles)
    }
}
