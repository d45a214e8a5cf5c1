CREATE TABLE notes_archive (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    scan_no integer NOT NULL,
    FOREIGN KEY (clinic_id, scan_no) REFERENCES scans (clinic_id, scan_no)
);
CREATE UNIQUE INDEX notes_archive_scan_idx ON notes_archive (scan_no, clinic_id);
-- A hash index is not usable for the check.
CREATE INDEX scan_meta_body_idx ON scan_meta USING hash (body);
