CREATE TABLE pt (id uuid PRIMARY KEY, email text, ssn text);
COMMENT ON COLUMN pt.email IS 'Contact. [pii]';
COMMENT ON COLUMN pt.ssn IS 'x [phi, encrypted]';
COMMENT ON TABLE pt IS 'People [soft_delete, append_only, retention=7 years after deleted_at]';
ALTER TABLE pt DROP COLUMN email;