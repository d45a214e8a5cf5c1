CREATE TABLE a (id int PRIMARY KEY);
CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a, data jsonb);
CREATE TABLE c (id int PRIMARY KEY, b_id int REFERENCES b);
CREATE TABLE d (id int PRIMARY KEY, a_id int REFERENCES a);
-- Unnamed: d_a_id_idx, then d_a_id_idx1 (PostgreSQL numbers the second).
CREATE INDEX ON d (a_id);
CREATE INDEX ON d (a_id) WHERE id > 0;
DROP INDEX d_a_id_idx;
CREATE TABLE appointment_reminder_delivery_attempts_2026 (
    id int PRIMARY KEY,
    appointment_reminder_delivery_channel_id int REFERENCES a
);
-- Both names are cut to fit 63 bytes the way PostgreSQL cuts them.
CREATE INDEX ON appointment_reminder_delivery_attempts_2026 (appointment_reminder_delivery_channel_id);
DROP INDEX appointment_reminder_delivery_appointment_reminder_delivery_idx;
