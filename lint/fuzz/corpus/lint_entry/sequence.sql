CREATE SEQUENCE IF NOT EXISTS app.counter AS integer START 1 CACHE 10;
CREATE TABLE app.ticket (no int DEFAULT nextval('app.counter'));
ALTER SEQUENCE app.counter OWNED BY app.ticket.no;
ALTER SEQUENCE app.counter RENAME TO ctr;
ALTER SEQUENCE app.ctr OWNED BY NONE;
DROP SEQUENCE app.ctr, s2 CASCADE;