CREATE INDEX CONCURRENTLY patients_chart_code_idx ON patients (chart_code);
