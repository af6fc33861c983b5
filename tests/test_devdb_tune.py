"""The dev database on FerretDB/PostgreSQL: `scripts/devdb tune` gives every declared index,
and every declared collection's `_id`, a GIN twin that the equality FerretDB pushes down
to PostgreSQL can use."""

import pytest

from healthrec.db import INDEXES


@pytest.fixture
def postgresql(devdb):
    """Rows (tab-separated columns) of SQL run by psql on the PostgreSQL under FerretDB."""
    if devdb.external:
        pytest.skip("MONGO_URI names an external server, not the FerretDB/PostgreSQL dev database")
    if devdb.backend != "postgresql":
        pytest.skip(f"the dev database runs FerretDB on {devdb.backend} (HEALTHREC_DEVDB_BACKEND), "
                    "not on PostgreSQL: no GIN twins to make")

    def query(sql):
        out = devdb.run("psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql)
        return [line.split("\t") for line in out.splitlines() if line]
    return query


def pushed_down(field):
    """The left side of the equality FerretDB v1.24.2 sends PostgreSQL for `field` (a
    dotted one as a path), written as PostgreSQL prints it in an index definition."""
    if "." in field:
        return "(_jsonb #> '{" + field.replace(".", ",") + "}'::text[])"
    return f"(_jsonb -> '{field}'::text)"


def test_every_declared_index_has_a_gin_twin_serving_the_pushed_down_equality(devdb, db, postgresql):
    devdb.run("tune", db.name)
    assert "(0 created, 0 dropped)" in devdb.run("tune", db.name)

    tables = dict(postgresql(f"SELECT _jsonb->>'_id', _jsonb->>'table' FROM {db.name}._ferretdb_database_metadata"))
    gin = postgresql(f"SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = '{db.name}' "
                     "AND indexdef LIKE '% USING gin %'")
    declared = sorted({(collection, keys[0][0]) for collection, indexes in INDEXES.items()
                       for keys, _options in indexes} | {(collection, "_id") for collection in INDEXES})
    assert ("archives", "review.verdict") in declared and ("archives", "_id") in declared
    for collection, field in declared:
        table = tables[collection]
        twins = [name for tablename, name, definition in gin
                 if tablename == table and f"USING gin (({pushed_down(field)})" in definition]
        assert len(twins) == 1, f"{collection}.{field}: GIN twins {twins}"
        # With sequential scans off the planner takes an index that serves the equality,
        # and fails over to a scan anyway when none does.
        plan = postgresql(f"SET enable_seqscan = off; EXPLAIN SELECT _jsonb FROM {db.name}.{table} "
                          f"WHERE {pushed_down(field)} @> '\"x\"'")
        assert any(twins[0] in line for (line,) in plan), f"{collection}.{field}: {plan}"
