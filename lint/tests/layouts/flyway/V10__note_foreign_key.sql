-- Needs V2's table: version 10 comes after version 2 (and 1.1 between 1 and 2).
ALTER TABLE notes ADD CONSTRAINT notes_patient_id_fkey
    FOREIGN KEY (patient_id) REFERENCES patients (id) NOT VALID;
