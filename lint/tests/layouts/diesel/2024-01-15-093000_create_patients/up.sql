CREATE TABLE patients (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    chart_code text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
