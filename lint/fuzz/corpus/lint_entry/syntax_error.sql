CREATE TABLE ok (id int);
CREATE TABLE (broken;
ALTER TABLE ok ADD COLUMN x int;
SELECT 'unterminated