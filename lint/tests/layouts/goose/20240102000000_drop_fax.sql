-- +goose Up
ALTER TABLE dentists DROP COLUMN fax;

-- +goose Down
-- Linted, this would fail: a NOT NULL column without a default on a table with rows.
ALTER TABLE dentists ADD COLUMN fax text NOT NULL;
