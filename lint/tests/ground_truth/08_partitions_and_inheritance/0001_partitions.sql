CREATE TABLE tenants (id bigint PRIMARY KEY, settings jsonb);
CREATE INDEX ON tenants USING gin (settings);
CREATE TABLE measurements (
    tenant_id bigint NOT NULL REFERENCES tenants,
    taken_at timestamptz NOT NULL,
    reading jsonb,
    PRIMARY KEY (tenant_id, taken_at)
) PARTITION BY RANGE (taken_at);
CREATE TABLE measurements_2026_01 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE measurements_2026_02 PARTITION OF measurements FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE logs (id bigserial, tenant_id bigint REFERENCES tenants, line text, extra jsonb) PARTITION BY LIST (tenant_id);
CREATE TABLE logs_1 PARTITION OF logs FOR VALUES IN (1);
CREATE TABLE logs_default (id bigint NOT NULL, tenant_id bigint, line text, extra jsonb);
ALTER TABLE logs ATTACH PARTITION logs_default DEFAULT;
CREATE INDEX ON logs USING gin (extra);
