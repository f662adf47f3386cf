"""OneRoster → Ed-Fi: `translate` (pure record translation), `per_record` (REST writes, inside the
writing transaction) and, in bulk (CSV imports, set-based), `bulk` with its `bulk_passes`,
`bulk_writes` and `bulk_deletes`."""
