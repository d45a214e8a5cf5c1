-- Flyway sees a statement that cannot run in a transaction and runs this one without.
CREATE INDEX CONCURRENTLY notes_patient_id_idx ON notes (patient_id);
