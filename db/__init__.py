"""PostgreSQL access: pool, embedded server, migrations and named queries."""
