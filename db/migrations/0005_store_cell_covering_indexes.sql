-- Nearby search reads only the cell indexes: each carries the columns the search returns,
-- so a search is an index-only scan over the covering cells, with no heap fetch per store.
DROP INDEX stores_r6;
DROP INDEX stores_r7;
DROP INDEX stores_r8;
DROP INDEX stores_r9;
DROP INDEX stores_r10;
CREATE INDEX stores_r6 ON stores (tenant_id, h3_r6)
    INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE NOT deleted;
CREATE INDEX stores_r7 ON stores (tenant_id, h3_r7)
    INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE NOT deleted;
CREATE INDEX stores_r8 ON stores (tenant_id, h3_r8)
    INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE NOT deleted;
CREATE INDEX stores_r9 ON stores (tenant_id, h3_r9)
    INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE NOT deleted;
CREATE INDEX stores_r10 ON stores (tenant_id, h3_r10)
    INCLUDE (lat, lng, store_id, merchant_id, name, address) WHERE NOT deleted;
