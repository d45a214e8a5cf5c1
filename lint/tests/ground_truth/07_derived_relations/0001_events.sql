CREATE TABLE events (id uuid PRIMARY KEY, kind text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON events USING gin (payload);
-- The copy's columns take the types of the columns they come from.
CREATE TABLE event_archive AS SELECT id, kind, payload, created_at FROM events WHERE false;
ALTER TABLE event_archive ADD PRIMARY KEY (id);
CREATE TABLE tags (id serial PRIMARY KEY, label text);
SELECT e.id AS event_id, t.id AS tag_id, '{}'::jsonb AS extra INTO event_tags FROM events e, tags t WHERE false;
ALTER TABLE event_tags ADD CONSTRAINT event_tags_event_fk FOREIGN KEY (event_id) REFERENCES events (id);
ALTER TABLE event_tags ADD CONSTRAINT event_tags_tag_fk FOREIGN KEY (tag_id) REFERENCES tags (id);
CREATE INDEX ON event_tags (tag_id);
CREATE VIEW recent_events AS SELECT id, kind FROM events WHERE created_at > now() - interval '1 day';
CREATE MATERIALIZED VIEW kind_counts AS SELECT kind, count(*) AS n FROM events GROUP BY kind;
CREATE UNIQUE INDEX ON kind_counts (kind);
