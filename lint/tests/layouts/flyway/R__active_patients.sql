CREATE OR REPLACE VIEW active_patients AS SELECT id, chart_code FROM patients;
