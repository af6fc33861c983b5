"""`flask keys generate|rotate|reseal|status`. Key material goes to standard output or the ring
file only; no command ever prints a decrypted value."""

import os
import sys
import tempfile

import click
from flask.cli import AppGroup

from healthrec import crypto
from healthrec.crypto import KeyRingError
from healthrec.db import get_db
from healthrec.keys import reseal, service

keys = AppGroup("keys", help="Encryption keys: make a key ring, rotate to a new key, see what each key seals.")


@keys.command("generate")
@click.option("--add-to", "ring_file", type=click.Path(exists=True, dir_okay=False, writable=True, allow_dash=True),
              help="Add a new active key to this ring file, keeping the old keys ('-': read the ring from "
                   "standard input and print the new ring).")
def generate(ring_file):
    """Print a new key ring (JSON), or add a new active key to an existing ring."""
    if ring_file is None:
        click.echo(crypto.generate())
        return
    try:
        if ring_file == "-":
            text, key_id = crypto.add_key(sys.stdin.read())
            click.echo(text)
            return
        with open(ring_file, encoding="utf-8") as handle:
            text, key_id = crypto.add_key(handle.read())
        replace_private(ring_file, text)
    except KeyRingError as error:
        source = "standard input" if ring_file == "-" else ring_file
        raise click.ClickException(f"{source}: {error}") from None
    click.echo(f"Added key {key_id} to {ring_file} and made it active; the old keys stay for reading. "
               "Restart every service process with this ring, then run `flask keys rotate`.")


def replace_private(path, text):
    """Write a new file only the owner can read, then swap it in: a crash never leaves a
    half-written ring."""
    handle, new = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".keyring-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    os.replace(new, path)


@keys.command("rotate")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(min=1),
              help="Documents per batch; progress is saved after each batch.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many documents; run again to resume.")
def rotate(batch_size, limit):
    """Re-seal every value under an old key with the active key, while the service runs."""
    db, ring = get_db(), current_ring()
    todo = service.pending(db, ring.active)
    try:
        with click.progressbar(length=min(todo, limit or todo), label=f"Re-sealing under key {ring.active}") as bar:
            result = service.rotate(db, ring, batch_size, limit, progress=bar.update)
    except KeyRingError as error:
        raise click.ClickException(f"{error}. Batches already done are saved: restore that value from a backup, "
                                   "then run `flask keys rotate` again to resume.") from None
    click.echo(f"Checked {result['checked']} documents, re-sealed {result['resealed']} values under key "
               f"{result['key']}.")
    where = ", ".join(f"{name} {count}" for name, count in result["left"].items())
    click.echo(f"Values still under old keys: {result['remaining']}" + (f" ({where})." if where else "."))
    not_rotated = [name for name in result["left"] if name not in service.ENCRYPTED_COLLECTIONS]
    if not result["complete"]:
        click.echo("Stopped at the limit; run `flask keys rotate` again to resume.")
    elif not_rotated:
        click.echo(f"Rotation does not cover {', '.join(not_rotated)} (not in ENCRYPTED_COLLECTIONS): "
                   "keep the old keys in the ring.")
    elif result["remaining"]:
        click.echo("Those were sealed while the rotation ran by a process with the old ring: restart every "
                   "service process with the new ring, then run `flask keys rotate` again.")
    else:
        click.echo(f"Every value is under key {result['key']}. Retired keys (see `flask keys status`) may be "
                   "dropped from the ring; keep them with any database backup made before the rotation.")


@keys.command("reseal")
def reseal_command():
    """Seal what an earlier version stored in clear (key-population flags, institutions);
    run once after upgrading, before the service starts. Running it again changes nothing."""
    changed = reseal.reseal(get_db(), current_ring())
    where = ", ".join(f"{name} {count}" for name, count in sorted(changed.items()))
    click.echo(f"Sealed values stored in clear: {where or 'none were left'}.")


@keys.command("status")
def status():
    """Sealed values per key in each encrypted collection, and rotation still to do."""
    report = service.status(get_db(), current_ring())
    click.echo(f"Active key: {report['active']}")
    known = ", ".join(f"{key_id} (retired)" if retired else key_id for key_id, retired in report["keys"])
    click.echo(f"Keys this database has used: {known or 'none yet'}")
    for name, per_key in report["counts"].items():
        note = "" if name in service.ENCRYPTED_COLLECTIONS else "  (not rotated: not in ENCRYPTED_COLLECTIONS)"
        if not per_key:
            click.echo(f"  {name:<16} no sealed values")
        for key_id, count in sorted(per_key.items()):
            click.echo(f"  {name:<16} {key_id:<8} {count}{note}")
    click.echo(f"Values still under old keys: {report['remaining']}.")
    if report["resume_after"]:
        where = ", ".join(f"{name} after {last}" for name, last in report["resume_after"].items())
        click.echo(f"An interrupted rotation resumes at: {where}.")
    elif report["remaining"]:
        click.echo("Run `flask keys rotate` to re-seal them under the active key.")


def current_ring():
    try:
        return crypto.keyring()
    except KeyRingError as error:
        raise click.ClickException(str(error)) from None
