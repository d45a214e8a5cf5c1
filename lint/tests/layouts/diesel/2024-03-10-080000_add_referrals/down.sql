ALTER TABLE patients DROP COLUMN referred_by;
