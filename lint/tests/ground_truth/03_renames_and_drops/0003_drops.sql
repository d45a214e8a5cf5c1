-- codegen:no-transaction
DROP INDEX CONCURRENTLY orders_handled_by_idx;
CREATE INDEX CONCURRENTLY bills_order_ref_idx ON bills (order_ref);
