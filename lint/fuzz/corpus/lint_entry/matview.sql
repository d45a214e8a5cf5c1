CREATE TABLE ev (id int, at timestamptz, data jsonb);
CREATE MATERIALIZED VIEW daily AS SELECT date_trunc('day', at) d, count(*) n FROM ev GROUP BY 1 WITH NO DATA;
CREATE UNIQUE INDEX daily_d ON daily (d);
REFRESH MATERIALIZED VIEW CONCURRENTLY daily;
ALTER MATERIALIZED VIEW daily RENAME TO per_day;
DROP MATERIALIZED VIEW per_day;