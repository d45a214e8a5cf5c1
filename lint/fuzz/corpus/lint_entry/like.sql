CREATE TABLE tpl (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), doc jsonb NOT NULL, CHECK (doc <> 'null'));
CREATE INDEX tpl_doc ON tpl USING gin (doc);
CREATE TABLE real1 (LIKE tpl INCLUDING ALL);
CREATE TABLE real2 (LIKE tpl INCLUDING DEFAULTS EXCLUDING INDEXES, more int);