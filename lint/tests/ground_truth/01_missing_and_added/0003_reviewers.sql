CREATE TABLE reviews (id uuid PRIMARY KEY, case_id uuid NOT NULL REFERENCES cases (id), reviewer uuid REFERENCES users (id));
CREATE INDEX reviews_reviewer_case_idx ON reviews (reviewer, case_id);
