CREATE TABLE users (id uuid PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE cases (
    id uuid PRIMARY KEY,
    created_by uuid NOT NULL REFERENCES users (id),
    assigned_to uuid REFERENCES users (id),
    reviewer uuid REFERENCES users (id)
);
CREATE INDEX cases_created_by_idx ON cases (created_by);
-- Partial: does not count.
CREATE INDEX cases_assigned_to_open_idx ON cases (assigned_to) WHERE assigned_to IS NOT NULL;
CREATE TABLE files (id uuid PRIMARY KEY, case_id uuid NOT NULL, uploaded_by uuid NOT NULL);
ALTER TABLE files ADD CONSTRAINT files_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE;
ALTER TABLE files ADD CONSTRAINT files_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES users (id);
