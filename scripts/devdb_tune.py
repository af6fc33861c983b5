"""GIN twins: dev-database tuning for FerretDB on PostgreSQL. MongoDB needs none of it.

    scripts/devdb tune [DB_NAME]      (default HEALTHREC_DB_NAME, else healthrec)

FerretDB v1.24.2 hands a top-level equality on a scalar field to PostgreSQL as
`_jsonb->'field' @> value`. The indexes it creates for MongoDB's `createIndexes` are
btrees on `(_jsonb->'field')`, which `@>` cannot use, so each such query reads the whole
table. A GIN index on the same expression serves it; `jsonb_path_ops` is smaller and
quicker to update than the default operator class, and `@>` is all it must serve.

For every index declared in `healthrec.db.INDEXES` this gives the collection's table such
a twin on the expression of the index's leading field, and every declared collection one
on `_id` (FerretDB's unique `_id` btree cannot serve `@>` either, so a look-up by `_id`
would read the whole table); it drops twins no longer declared. A dotted field gets the
path FerretDB would use, `_jsonb #> '{a,b}'`, though the embedded FerretDB leaves nested
pushdown off and filters those fields itself. Run it after `flask indexes create`;
running it again changes nothing.

scripts/devdb runs this with libpq's PG* variables and psql on PATH set for the dev
database's PostgreSQL. FerretDB keeps each database in a schema of that name; its
metadata table there maps collections (`_id`) to tables (`table`).
"""

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from healthrec.db import INDEXES  # noqa: E402
from healthrec.settings import from_env  # noqa: E402

METADATA = "_ferretdb_database_metadata"
SUFFIX = "_gin"  # FerretDB's own index names end in _<8 hex digits>_idx


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def psql(sql):
    """Rows of `sql`, each a list of its columns."""
    command = shutil.which("psql")
    if command is None:
        sys.exit("devdb tune: psql not found; run this as `scripts/devdb tune`")
    out = subprocess.run([command, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"devdb tune: psql failed: {out.stderr.strip()}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def expression(field):
    """The expression FerretDB's pushed-down equality on `field` compares."""
    parts = field.split(".")
    if len(parts) == 1:
        return f"(_jsonb -> {literal(field)})"
    elements = ('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in parts)
    return f"(_jsonb #> {literal('{' + ','.join(elements) + '}')})"


def twin_name(table, field):
    """At most 63 characters, PostgreSQL's limit; the hash keeps `a.b` and `a_b` apart."""
    digest = hashlib.sha256(f"{table}\0{field}".encode()).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "_", field.lower())[:20]
    return f"{table[:28]}_{slug}_{digest}{SUFFIX}"


def main(db_name):
    schema = ident(db_name)
    if psql(f"SELECT to_regclass({literal(f'{schema}.{METADATA}')}) IS NULL") != [["f"]]:
        sys.exit(f"devdb tune: no FerretDB database {db_name!r} here; run `flask indexes create` first")
    tables = dict(psql(f"SELECT _jsonb->>'_id', _jsonb->>'table' FROM {schema}.{METADATA}"))
    missing = sorted(name for name in INDEXES if name not in tables)
    if missing:
        sys.exit(f"devdb tune: {db_name} lacks the collections {', '.join(missing)}; "
                 "run `flask indexes create` first")

    wanted = {}
    for collection, table in tables.items():
        if collection not in INDEXES:
            continue
        for field in {"_id"} | {keys[0][0] for keys, _options in INDEXES[collection]}:
            wanted[twin_name(table, field)] = (table, field)
    have = {name for (name,) in psql(
        f"SELECT indexname FROM pg_indexes WHERE schemaname = {literal(db_name)} "
        f"AND right(indexname, {len(SUFFIX)}) = {literal(SUFFIX)} AND indexdef LIKE '% USING gin %'")}

    created = sorted(set(wanted) - have)
    dropped = sorted(have - set(wanted))
    for name in created:
        table, field = wanted[name]
        psql(f"CREATE INDEX IF NOT EXISTS {ident(name)} ON {schema}.{ident(table)} "
             f"USING gin ({expression(field)} jsonb_path_ops)")
    for name in dropped:
        psql(f"DROP INDEX IF EXISTS {schema}.{ident(name)}")
    print(f"devdb tune: {len(wanted)} GIN twins in {db_name} ({len(created)} created, {len(dropped)} dropped)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else from_env()["DB_NAME"])
