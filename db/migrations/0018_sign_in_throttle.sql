-- Failed sign-ins to the portal and the console, per tenant the key names (empty when it
-- names none), client address and minute: a client past the limit is refused (429) until
-- the minute is over. Counts of the moment, shared by every worker and host; nothing to
-- keep across a crash.
CREATE UNLOGGED TABLE sign_in_failures (
    tenant_id text NOT NULL,
    client text NOT NULL,
    minute timestamptz NOT NULL,
    failures integer NOT NULL,
    PRIMARY KEY (tenant_id, client, minute)
);
