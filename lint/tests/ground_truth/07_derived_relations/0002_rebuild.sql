-- CASCADE takes the views and the foreign key that depend on the table.
DROP TABLE events CASCADE;
CREATE TABLE events (id uuid PRIMARY KEY, kind text NOT NULL, body jsonb);
CREATE VIEW recent_events AS SELECT id, kind FROM events;
CREATE MATERIALIZED VIEW kind_counts AS SELECT kind, count(*) AS n FROM events GROUP BY kind;
CREATE OR REPLACE VIEW recent_events AS SELECT id, kind, body FROM events;
