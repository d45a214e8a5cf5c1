CREATE TABLE base_items (id bigint PRIMARY KEY, tenant_id bigint REFERENCES tenants, attrs jsonb);
CREATE TABLE special_items (note text, owner_tenant bigint REFERENCES tenants) INHERITS (base_items);
CREATE INDEX ON special_items (owner_tenant);
ALTER TABLE base_items ADD COLUMN extra jsonb;
-- A partition's own foreign key, covered by an index on its partitioned table.
ALTER TABLE measurements_2026_02 ADD CONSTRAINT m2_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants;
