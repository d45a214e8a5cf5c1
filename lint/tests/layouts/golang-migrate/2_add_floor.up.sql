ALTER TABLE rooms ADD COLUMN floor integer;
