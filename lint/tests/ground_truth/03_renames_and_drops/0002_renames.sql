ALTER TABLE orders RENAME COLUMN customer_ref TO customer_id;
ALTER TABLE invoices RENAME TO bills;
ALTER TABLE bills RENAME COLUMN order_id TO order_ref;
ALTER INDEX orders_customer_ref_idx RENAME TO orders_customer_id_idx;
