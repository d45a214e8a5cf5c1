CREATE TABLE "My Schema"."T" ("Id" int);
CREATE TABLE public.u (id int PRIMARY KEY, t_id int REFERENCES "My Schema"."T");
CREATE INDEX ON public.u (t_id);
ALTER TABLE IF EXISTS ONLY public.u SET SCHEMA other;
ALTER TABLE other.u RENAME COLUMN t_id TO tid;