-- serial, bigserial and identity columns: each is an integer column of a table that exists.
CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL, settings jsonb);
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id integer NOT NULL REFERENCES accounts,
    subtotal numeric(10,2) NOT NULL,
    tax numeric(10,2) NOT NULL,
    total numeric(10,2) GENERATED ALWAYS AS (subtotal + tax) STORED,
    lines jsonb NOT NULL DEFAULT '[]'
);
CREATE TABLE payments (id bigserial PRIMARY KEY, invoice_id bigint REFERENCES invoices (id), meta jsonb);
CREATE INDEX ON payments (invoice_id);
CREATE SEQUENCE receipt_numbers AS integer START 1000 INCREMENT 10;
CREATE TABLE receipts (
    number integer PRIMARY KEY DEFAULT nextval('receipt_numbers'),
    payment_id bigint REFERENCES payments
);
ALTER SEQUENCE receipt_numbers OWNED BY receipts.number;
