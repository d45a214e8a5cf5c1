CREATE TABLE customers (id uuid PRIMARY KEY);
CREATE TABLE orders (id uuid PRIMARY KEY, customer_ref uuid REFERENCES customers (id), handled_by uuid REFERENCES customers (id));
CREATE INDEX orders_customer_ref_idx ON orders (customer_ref);
CREATE INDEX orders_handled_by_idx ON orders (handled_by);
CREATE TABLE invoices (id uuid PRIMARY KEY, order_id uuid NOT NULL REFERENCES orders (id));
