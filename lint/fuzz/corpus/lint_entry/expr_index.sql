CREATE TABLE usr (id int PRIMARY KEY, email text, doc jsonb);
CREATE UNIQUE INDEX usr_email_lower ON usr (lower(email));
CREATE INDEX CONCURRENTLY IF NOT EXISTS usr_kind ON usr ((doc->>'kind'), id DESC NULLS LAST) WHERE doc IS NOT NULL;
CREATE INDEX ON usr USING gin ((doc->'tags') jsonb_path_ops);
ALTER INDEX usr_email_lower RENAME TO usr_email_ci;