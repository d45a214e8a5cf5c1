CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION hstore WITH SCHEMA ext;
CREATE EXTENSION postgis;
CREATE TABLE place (id int PRIMARY KEY, email citext UNIQUE, attrs ext.hstore, geom geometry(Point, 4326));
CREATE INDEX ON place USING gist (geom);
DROP EXTENSION hstore CASCADE;