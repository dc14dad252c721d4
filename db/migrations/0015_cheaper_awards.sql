-- Cheaper awards: the liability report reads a tenant's transfers by day. A block range
-- index on the time they were written serves it (transfers are written in time order) at a
-- tiny fraction of a B-tree's writes: one summary per 128 pages, instead of an index entry
-- for every transfer of every award.
DROP INDEX transfers_day;
CREATE INDEX transfers_day ON transfers USING brin (created_at) WITH (autosummarize = on);

-- A budget reservation lives only inside the transaction that makes it: it is added to its
-- budget and deleted during COMMIT (migration 0008), so no committed row ever remains. The
-- table need not go to the WAL: an unlogged table is emptied after a crash, which is all a
-- crash could leave of it anyway, and replicas never need its rows.
ALTER TABLE budget_claims SET UNLOGGED;
