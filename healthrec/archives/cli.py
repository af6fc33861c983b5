"""`flask archives reconcile|import`: repair what a crash between two writes left behind,
and bring in archives kept on paper."""

import sys
from datetime import timedelta

import click
from flask.cli import AppGroup

from healthrec.archives import legacy, locks
from healthrec.auth import service as auth
from healthrec.errors import DomainError

archives = AppGroup("archives", help="Resident archives.")


@archives.command("reconcile")
@click.option("--grace-minutes", default=5, show_default=True, type=click.IntRange(min=0),
              help="Leave locks and writes younger than this: their requests may still be running.")
def reconcile(grace_minutes):
    """Remove ID-card and version locks whose archive write never happened, and append the
    audit entries of writes cut off before theirs."""
    found = locks.reconcile(timedelta(minutes=grace_minutes))
    click.echo(f"Removed {found['identity_locks']} orphan ID-card locks and "
               f"{found['version_locks']} unfinished version locks.")
    settled = {collection: count for collection, count in found["settled"].items() if count}
    if not settled:
        click.echo("No write was waiting for its audit entry.")
        return
    appended = sum(found["appended"].values())
    click.echo(f"Settled {sum(settled.values())} writes waiting for their audit entry "
               f"({', '.join(f'{collection} {count}' for collection, count in settled.items())}): "
               f"appended {appended} missing entries; the others were there already.")


def _refused(error):
    click.echo(f"Error: {error.detail}", err=True)
    for line in error.extra.get("lines", []):
        click.echo(f"  line {line['line']}: {line['reason']}", err=True)
    if error.extra.get("duplicates"):
        click.echo("Duplicates (none of these rows is imported):", err=True)
        for duplicate in error.extra["duplicates"]:
            lines = duplicate["lines"]
            click.echo(f"  line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}: "
                       f"{duplicate['reason']}", err=True)
    sys.exit(1)


@archives.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "username", required=True,
              help="The user the import acts as and is audited under: township staff or the village doctor "
                   "of the rows' villages, or an administrator of their county.")
def import_archives(file, username):
    """Bring in archives kept on paper from FILE (.csv or .xlsx, one archive per row with
    its number and 建档日期; the columns are in the README). All or nothing: any bad or
    duplicate row imports none. Rows imported before are left as they are."""
    try:
        user = auth.active_user(username)
        sheet = legacy.read(file)
        with click.progressbar(sheet.rows, label="Checking rows", file=sys.stderr) as rows:
            plan = legacy.check(user, sheet, rows)
    except DomainError as error:
        _refused(error)
    if not plan.new:
        click.echo(f"All {len(plan.present)} archives of the file are in the database already; nothing was imported.")
        return
    with click.progressbar(legacy.write(user, plan), length=len(plan.new), label="Importing archives",
                           file=sys.stderr) as written:
        for _row in written:
            pass
    created = len(plan.new) - len(plan.failed)
    click.echo(f"Imported {created} archives; {len(plan.present)} were in the database already.")
    if plan.failed:
        click.echo(f"{len(plan.failed)} rows were refused while importing, as the database changed since "
                   "the check:", err=True)
        for line, reason in plan.failed:
            click.echo(f"  line {line}: {reason}", err=True)
        click.echo("Correct these lines and import the file again; what was imported stays as it is.", err=True)
        sys.exit(1)
