"""`flask archives reconcile`: repair what a crash between two writes left behind."""

from datetime import timedelta

import click
from flask.cli import AppGroup

from healthrec.archives import claims

archives = AppGroup("archives", help="Resident archives.")


@archives.command("reconcile")
@click.option("--grace-minutes", default=5, show_default=True, type=click.IntRange(min=0),
              help="Leave claims younger than this: their requests may still be running.")
def reconcile(grace_minutes):
    """Remove ID-card and version claims whose archive write never happened."""
    found = claims.reconcile(timedelta(minutes=grace_minutes))
    click.echo(f"Removed {found['identity_claims']} orphan ID-card claims and "
               f"{found['version_claims']} unfinished version claims.")
