-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY dentists_license_idx ON dentists (license);

-- +goose Down
DROP INDEX CONCURRENTLY dentists_license_idx;
