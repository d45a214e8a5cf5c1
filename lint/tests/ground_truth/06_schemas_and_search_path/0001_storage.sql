-- Tables outside public, qualified and unqualified, and a runner-style search_path.
CREATE SCHEMA storage;
CREATE TABLE storage.buckets (id text PRIMARY KEY, owner uuid, metadata jsonb);
CREATE TABLE "storage"."objects" (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text REFERENCES storage.buckets (id),
    name text,
    metadata jsonb
);
-- An expression after the leading column: the index still serves the foreign key.
CREATE INDEX objects_bucket_name_idx ON storage.objects (bucket_id, lower(name));
