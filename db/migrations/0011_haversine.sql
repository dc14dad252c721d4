-- The great-circle distance in metres on the sphere of 6,371,008.8 m (the haversine), the
-- same formula as offers.core.geo.haversine_m, written once for every query that measures.
-- IMMUTABLE and a single SQL expression, so the planner inlines it where it is used.

CREATE FUNCTION haversine_m(lat1 float8, lng1 float8, lat2 float8, lng2 float8)
RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN 2 * 6371008.8 * asin(least(1, sqrt(
    sin(radians(lat2 - lat1) / 2) ^ 2
    + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lng2 - lng1) / 2) ^ 2
)));
