CREATE SCHEMA x;
SELECT set_config('search_path', 'x, public', true);
CREATE TABLE a (id int);
SELECT set_config('search_path', '', false);
CREATE TABLE public.b (a_id int REFERENCES x.a);