CREATE TABLE IF NOT EXISTS "User" ("id" TEXT PRIMARY KEY);
ALTER TABLE IF EXISTS "Post" ADD COLUMN IF NOT EXISTS "editorId" TEXT REFERENCES "User"("id");
ALTER TABLE IF EXISTS "Missing" ADD COLUMN "x" int;
ALTER TABLE "Post" DROP CONSTRAINT IF EXISTS "Post_reviewerId_fkey";
ALTER TABLE "Post" RENAME CONSTRAINT "Post_authorId_fkey" TO "Post_author_fkey";
DROP INDEX IF EXISTS "Post_nothing_idx";
CREATE INDEX IF NOT EXISTS "Post_meta_idx" ON "Post" USING gin ("meta");
CREATE INDEX IF NOT EXISTS "Post_meta_idx" ON "Post" ("id");
CREATE SEQUENCE IF NOT EXISTS audit_seq;
CREATE TABLE audit (id bigint NOT NULL, post_id int, body jsonb);
ALTER TABLE ONLY audit ALTER COLUMN id SET DEFAULT nextval('audit_seq'::regclass);
ALTER TABLE ONLY audit ADD CONSTRAINT audit_pkey PRIMARY KEY (id);
ALTER TABLE ONLY audit ADD CONSTRAINT audit_post_fk FOREIGN KEY (post_id) REFERENCES "Post"(id) DEFERRABLE INITIALLY DEFERRED;
CREATE OR REPLACE FUNCTION touch() RETURNS TRIGGER AS $$
BEGIN
    NEW.body = coalesce(NEW.body, '{}'::jsonb);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_touch BEFORE INSERT OR UPDATE ON audit FOR EACH ROW EXECUTE PROCEDURE touch();
CREATE TRIGGER audit_touch_body BEFORE UPDATE OF body ON audit FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body) EXECUTE FUNCTION touch();
COMMENT ON TABLE audit IS 'Changes to posts.';
COMMENT ON COLUMN audit.body IS 'The change.';
