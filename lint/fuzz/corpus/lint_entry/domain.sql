CREATE DOMAIN settings AS jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(VALUE) = 'object');
CREATE TABLE cfg (id int PRIMARY KEY, s settings);
ALTER DOMAIN settings ADD CONSTRAINT c2 CHECK (VALUE ? 'v') NOT VALID;
ALTER DOMAIN settings RENAME TO prefs;
DROP DOMAIN prefs CASCADE;