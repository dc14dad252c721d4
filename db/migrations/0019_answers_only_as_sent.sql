-- Every hook answer is kept as the bytes that were sent. Answers recorded before migration
-- 0012 were kept as JSONB and were re-encoded through the answer type of the day on every
-- repeat delivery, so a change to that type would have changed (or broken) them: they
-- become bytes now, once. JSONB kept no key order or spacing of its own, so those old
-- answers come back as PostgreSQL writes the same JSON document.
UPDATE transactions SET answer = convert_to(response::text, 'UTF8') WHERE answer IS NULL;
ALTER TABLE transactions DROP COLUMN response, ALTER COLUMN answer SET NOT NULL;
