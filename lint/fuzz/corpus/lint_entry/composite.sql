CREATE TYPE addr AS (street text, zip varchar(10));
CREATE TABLE person (id int PRIMARY KEY, home addr, tags addr[]);
ALTER TYPE addr ADD ATTRIBUTE country text;
ALTER TYPE addr RENAME ATTRIBUTE zip TO postcode CASCADE;
ALTER TYPE addr DROP ATTRIBUTE IF EXISTS country;
ALTER TYPE addr RENAME TO address;