"""`flask backup dump|restore`: copy the database to a folder and back. The key ring is
never in a dump: keep it apart, offline."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from healthrec.backup import service
from healthrec.db import get_db

backup_cli = AppGroup("backup", help="Dump the database to a folder; restore a dump into an empty database.")


@backup_cli.command("dump")
@click.argument("folder", type=click.Path(file_okay=False))
def dump(folder):
    """Write every collection to FOLDER (new or empty): gzip BSON files and manifest.json."""
    try:
        manifest = service.dump(get_db(), folder)
    except service.BackupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    total = sum(entry["documents"] for entry in manifest["collections"].values())
    click.echo(f"Dumped {len(manifest['collections'])} collections, {total} documents, to {folder}.")
    click.echo(f"The data is sealed under key {', '.join(manifest['keys']) or '(none)'}: keep the key ring that "
               "holds them, and its index_key, apart from this dump.")


@backup_cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def restore(folder):
    """Load the dump in FOLDER into the database, which must be empty; indexes are made."""
    try:
        manifest = service.restore(get_db(), folder, current_app.extensions.get("healthrec.keys"))
    except service.BackupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    total = sum(entry["documents"] for entry in manifest["collections"].values())
    click.echo(f"Restored {len(manifest['collections'])} collections, {total} documents, from the dump made at "
               f"{manifest['made_at']}. Check it: flask audit verify")
