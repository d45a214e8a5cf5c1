CREATE SCHEMA billing
    CREATE TABLE plans (id int PRIMARY KEY, features jsonb)
    CREATE TABLE subscriptions (id int PRIMARY KEY, plan_id int REFERENCES plans);
SELECT pg_catalog.set_config('search_path', 'billing', false);
CREATE TABLE usage (id int PRIMARY KEY, subscription_id int REFERENCES subscriptions, data jsonb);
CREATE INDEX usage_data_idx ON usage USING gin (data);
SELECT pg_catalog.set_config('search_path', '"$user", public', false);
-- A table of the same name in public is another table.
CREATE TABLE usage (id int PRIMARY KEY, plan_id int REFERENCES billing.plans, data jsonb);
