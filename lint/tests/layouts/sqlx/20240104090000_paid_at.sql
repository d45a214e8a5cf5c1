ALTER TABLE invoices ADD COLUMN paid_at timestamptz;
CREATE INDEX CONCURRENTLY invoices_paid_at_idx ON invoices (paid_at);
