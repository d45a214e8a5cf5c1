# Entry points. `make generate` and `make test` are the two commands a newcomer needs; the db-*
# targets replace the Alembic workflow of the original setup guide.
#
# The database targets use DATABASE_URL, defaulting to the guide's local database
# (postgresql://dental_user:dental_password@localhost:5432/dental_backend); with Docker,
# `docker compose -f infrastructure/docker-compose.yml up -d postgres` starts one.

CODEGEN = cargo run -q -p codegen --

.PHONY: deps build generate check test lint-rust lint-migrations migrate db-show db-revision db-rollback resetdb db-current run

deps:
	@scripts/install-deps

build: deps
	cargo build --workspace

# The main job: schema.yaml -> generated/ (the next migration when the schema changed, docs, code).
generate: deps
	cargo run -p codegen

# Exit 1 when generated/ is stale or schema.yaml holds changes no migration captures.
check: deps
	$(CODEGEN) --check

# Apply every pending migration.
migrate: deps
	$(CODEGEN) db upgrade

# Migration history: applied (with checksum and time) and pending.
db-show: deps
	$(CODEGEN) db history

# Write the next migration from the schema.yaml changes: make db-revision message="add due dates"
db-revision: deps
	@test -n "$(message)" || { echo 'usage: make db-revision message="what changed"'; exit 2; }
	$(CODEGEN) --name "$(message)"

# Revert the last applied migration.
db-rollback: deps
	$(CODEGEN) db downgrade 1

# Drop everything and apply every migration again (deletes all data).
resetdb: deps
	$(CODEGEN) db reset --yes

# The last applied migration.
db-current: deps
	$(CODEGEN) db current

# The seed's HTTP service on HOST:PORT (127.0.0.1:8000): /health, /config, the API (docs/service.md).
run: deps
	cargo run -q -p dental-service

# Lint the committed migrations: CI blocks a migration that fails.
lint-migrations: deps
	cargo run -q -p lint -- generated/migrations

lint-rust: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Every test, including the end-to-end ones on a throwaway PostgreSQL the tests start themselves.
test: lint-rust
	cargo run -q -p codegen -- --check
	cargo run -q --manifest-path pgparse/generate/Cargo.toml -- --check
	cargo run -q -p lint -- generated/migrations
	cargo test --workspace
