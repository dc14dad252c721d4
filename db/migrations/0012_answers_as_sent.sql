-- The hook's answer is kept as the bytes that were sent (a repeat delivery gets them again
-- as they are), no longer as JSONB beside them; answers recorded before stay in `response`
-- and are read from there. Refunds find what they claw back in the ledger: the original's
-- transfers and offer redemptions, looked up by transaction.

ALTER TABLE transactions
    ADD COLUMN answer bytea,
    ALTER COLUMN response DROP NOT NULL;

CREATE INDEX transfers_transaction ON transfers (tenant_id, transaction_id)
    WHERE transaction_id IS NOT NULL;
CREATE INDEX offer_redemptions_transaction ON offer_redemptions (tenant_id, transaction_id);
