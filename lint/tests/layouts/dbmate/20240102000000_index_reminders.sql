-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY reminders_appointment_id_idx ON reminders (appointment_id);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY reminders_appointment_id_idx;
