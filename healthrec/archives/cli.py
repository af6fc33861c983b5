"""`flask archives reconcile`: repair what a crash between two writes left behind."""

from datetime import timedelta

import click
from flask.cli import AppGroup

from healthrec.archives import locks

archives = AppGroup("archives", help="Resident archives.")


@archives.command("reconcile")
@click.option("--grace-minutes", default=5, show_default=True, type=click.IntRange(min=0),
              help="Leave locks younger than this: their requests may still be running.")
def reconcile(grace_minutes):
    """Remove ID-card and version locks whose archive write never happened."""
    found = locks.reconcile(timedelta(minutes=grace_minutes))
    click.echo(f"Removed {found['identity_locks']} orphan ID-card locks and "
               f"{found['version_locks']} unfinished version locks.")
