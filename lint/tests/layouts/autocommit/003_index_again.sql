CREATE INDEX CONCURRENTLY referrals_id_source_idx ON referrals (id, source);
