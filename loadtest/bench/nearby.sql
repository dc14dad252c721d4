-- Queries of the nearby benchmark only (PostgreSQL's own alternatives to the H3 path).

-- name: bench_earthdistance_setup
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE INDEX IF NOT EXISTS stores_earth ON stores USING gist (ll_to_earth(lat, lng));

-- name: bench_vacuum
-- What autovacuum does in time: the visibility map that index-only scans rely on.
VACUUM ANALYZE stores;

-- name: bench_earthdistance
-- Candidates from the GiST index on a box of the radius (scaled from the sphere of
-- 6,371,008.8 m to earthdistance's own 6,378,168 m, plus a margin), then the same exact
-- haversine as the service (haversine_m, migration 0011).
SELECT store_id, merchant_id, name, address, lat, lng,
       haversine_m($2::float8, $3::float8, lat, lng) AS distance
FROM stores
WHERE tenant_id = $1::text AND NOT deleted
  AND earth_box(ll_to_earth($2::float8, $3::float8), $4::float8 * 1.0012 + 1)
      @> ll_to_earth(lat, lng)
  AND haversine_m($2::float8, $3::float8, lat, lng) <= $4::float8;

-- name: bench_postgis_available
SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis');

-- name: bench_postgis_setup
CREATE EXTENSION IF NOT EXISTS postgis;
ALTER TABLE stores ADD COLUMN IF NOT EXISTS geog geography(Point, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography) STORED;
CREATE INDEX IF NOT EXISTS stores_geog ON stores USING gist (geog);

-- name: bench_postgis
-- Candidates from the GiST index with ST_DWithin on PostGIS's sphere (plus a margin), then
-- the same exact haversine as the service (haversine_m, migration 0011).
SELECT store_id, merchant_id, name, address, lat, lng,
       haversine_m($2::float8, $3::float8, lat, lng) AS distance
FROM stores
WHERE tenant_id = $1::text AND NOT deleted
  AND ST_DWithin(geog, ST_SetSRID(ST_MakePoint($3::float8, $2::float8), 4326)::geography,
                 $4::float8 * 1.001 + 1, false)
  AND haversine_m($2::float8, $3::float8, lat, lng) <= $4::float8;

-- name: bench_version
SHOW server_version;

-- name: stores_in_cells_r6
-- Stores of the covering cells (resolution 6) within the radius.
SELECT store_id, merchant_id, name, address, lat, lng,
       haversine_m($3::float8, $4::float8, lat, lng) AS distance
FROM stores WHERE tenant_id = $1::text AND h3_r6 = ANY($2::bigint[]) AND NOT deleted
  AND haversine_m($3::float8, $4::float8, lat, lng) <= $5::float8;

-- name: stores_in_cells_r7
-- Stores of the covering cells (resolution 7) within the radius.
SELECT store_id, merchant_id, name, address, lat, lng,
       haversine_m($3::float8, $4::float8, lat, lng) AS distance
FROM stores WHERE tenant_id = $1::text AND h3_r7 = ANY($2::bigint[]) AND NOT deleted
  AND haversine_m($3::float8, $4::float8, lat, lng) <= $5::float8;

-- name: stores_in_cells_r8
-- Stores of the covering cells (resolution 8) within the radius.
SELECT store_id, merchant_id, name, address, lat, lng,
       haversine_m($3::float8, $4::float8, lat, lng) AS distance
FROM stores WHERE tenant_id = $1::text AND h3_r8 = ANY($2::bigint[]) AND NOT deleted
  AND haversine_m($3::float8, $4::float8, lat, lng) <= $5::float8;

-- name: stores_in_cells_r9
-- Stores of the covering cells (resolution 9) within the radius.
SELECT store_id, merchant_id, name, address, lat, lng,
       haversine_m($3::float8, $4::float8, lat, lng) AS distance
FROM stores WHERE tenant_id = $1::text AND h3_r9 = ANY($2::bigint[]) AND NOT deleted
  AND haversine_m($3::float8, $4::float8, lat, lng) <= $5::float8;

-- name: stores_in_cells_r10
-- Stores of the covering cells (resolution 10) within the radius.
SELECT store_id, merchant_id, name, address, lat, lng,
       haversine_m($3::float8, $4::float8, lat, lng) AS distance
FROM stores WHERE tenant_id = $1::text AND h3_r10 = ANY($2::bigint[]) AND NOT deleted
  AND haversine_m($3::float8, $4::float8, lat, lng) <= $5::float8;
