CREATE TABLE clinics (id uuid PRIMARY KEY);
CREATE TABLE scans (
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    scan_no integer NOT NULL,
    id uuid NOT NULL,
    PRIMARY KEY (clinic_id, scan_no),
    UNIQUE (id)
);
CREATE TABLE notes (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    scan_no integer NOT NULL,
    at date,
    FOREIGN KEY (clinic_id, scan_no) REFERENCES scans (clinic_id, scan_no)
);
-- Wrong prefix: (clinic_id, at, scan_no) does not cover (clinic_id, scan_no).
CREATE INDEX notes_clinic_at_idx ON notes (clinic_id, at, scan_no);
CREATE TABLE marks (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    scan_no integer NOT NULL,
    CONSTRAINT marks_scan_fkey FOREIGN KEY (clinic_id, scan_no) REFERENCES scans (clinic_id, scan_no),
    -- A unique constraint with the FK columns leading, in the other order.
    CONSTRAINT marks_key UNIQUE (scan_no, clinic_id, id)
);
CREATE TABLE scan_meta (scan_id uuid PRIMARY KEY REFERENCES scans (id), body text);
CREATE TABLE public."Scan Links" (
    id uuid PRIMARY KEY,
    "Scan Id" uuid NOT NULL REFERENCES public.scans (id),
    "Other Scan" uuid REFERENCES scans (id)
);
CREATE INDEX "Scan Links scan idx" ON "Scan Links" ("Scan Id", id);
