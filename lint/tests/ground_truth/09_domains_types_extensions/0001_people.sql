CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE DOMAIN settings_doc AS jsonb CHECK (jsonb_typeof(VALUE) = 'object');
CREATE DOMAIN email_address AS citext CHECK (position('@' in VALUE) > 1);
CREATE TYPE address AS (street text, city text);
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE TABLE people (
    id uuid PRIMARY KEY,
    email email_address UNIQUE,
    tags hstore,
    home address,
    prefs settings_doc,
    mood mood,
    busy tstzrange,
    scores int4range[]
);
CREATE TABLE notes (id uuid PRIMARY KEY, person_id uuid REFERENCES people, body text, meta settings_doc);
CREATE INDEX ON notes USING gin (meta);
ALTER TYPE address ADD ATTRIBUTE zip text;
ALTER DOMAIN settings_doc SET DEFAULT '{}';
ALTER TABLE people ALTER COLUMN tags TYPE hstore;
