CREATE OR REPLACE VIEW patient_overview AS
    SELECT p.id, p.chart_code, count(n.id) AS notes
    FROM patients p LEFT JOIN notes n ON n.patient_id = p.id
    GROUP BY p.id, p.chart_code;
