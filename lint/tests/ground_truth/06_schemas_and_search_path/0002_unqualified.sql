SET search_path TO storage, public;
CREATE TABLE uploads (id text PRIMARY KEY, bucket_id text NOT NULL REFERENCES buckets (id), user_metadata jsonb);
CREATE INDEX ON uploads USING gin (user_metadata);
RESET search_path;
CREATE TABLE profiles (id uuid PRIMARY KEY, avatar uuid REFERENCES storage.objects (id), prefs jsonb);
CREATE INDEX ON profiles USING gin (prefs);
