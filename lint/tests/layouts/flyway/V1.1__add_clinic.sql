ALTER TABLE patients ADD COLUMN clinic text;
