"""Ed-Fi → OneRoster: `translate` (pure record translation), `read_edfi` (Ed-Fi documents by field
or key, many at a time) and `project` with `people`: the projection of Ed-Fi writes, inside the
writing transaction, one record or a bulk load's many at a time (and a full rebuild)."""
