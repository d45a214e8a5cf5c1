CREATE INDEX CONCURRENTLY referrals_source_idx ON referrals (source);
