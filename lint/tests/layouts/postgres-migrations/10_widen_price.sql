ALTER TABLE treatments ALTER COLUMN price_cents TYPE bigint;
