-- Cheaper awards: the liability report reads a tenant's transfers by day. A block range
-- index on the time they were written serves it (transfers are written in time order) at a
-- tiny fraction of a B-tree's writes: one summary per 128 pages, instead of an index entry
-- for every transfer of every award.
DROP INDEX transfers_day;
CREATE INDEX transfers_day ON transfers USING brin (created_at) WITH (autosummarize = on);
