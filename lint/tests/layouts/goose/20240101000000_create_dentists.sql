-- +goose Up
-- +goose StatementBegin
CREATE TABLE dentists (
    id integer PRIMARY KEY,
    license text NOT NULL,
    fax text
);
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION dentists_license_upper() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.license := upper(NEW.license);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- Not reversible: the table holds records that must be kept.
SELECT 'dentists are kept on rollback';
