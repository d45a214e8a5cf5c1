ALTER TABLE treatments ADD COLUMN price_cents integer;
