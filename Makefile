# Entry points. `make generate` and `make test` are the two commands a newcomer needs.
.PHONY: deps build generate check test lint-rust

deps:
	@scripts/install-deps

build: deps
	cargo build --workspace

# The main job: schema.yaml -> generated/.
generate: deps
	cargo run -p codegen

# Exit 1 when generated/ is stale.
check: deps
	cargo run -q -p codegen -- --check

lint-rust: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Every test, including the end-to-end ones on a throwaway PostgreSQL the tests start themselves.
test: lint-rust
	cargo test --workspace
