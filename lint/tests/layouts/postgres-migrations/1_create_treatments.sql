CREATE TABLE treatments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code text NOT NULL
);
