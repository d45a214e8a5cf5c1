ALTER TABLE orders ADD COLUMN approved_by uuid;
ALTER TABLE orders ADD CONSTRAINT orders_approved_by_fkey FOREIGN KEY (approved_by) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders DROP COLUMN handled_by;
ALTER TABLE orders ADD COLUMN meta jsonb;
