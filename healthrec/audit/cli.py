"""`flask audit verify|heads`: check the hash chains; print heads to keep outside the database."""

import sys

import click
from flask.cli import AppGroup

from healthrec.audit import chain as chains
from healthrec.db import get_db

audit_cli = AppGroup("audit", help="Check the tamper-evident audit trail.")


def read_anchors(file):
    """(chain, seq, hash) from lines "chain seq hash" as `flask audit heads` prints them."""
    anchors = []
    for number, line in enumerate(file, start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 3 or not fields[1].isdigit() or len(fields[2]) != 64:
            click.echo(f"Error: {file.name} line {number}: expected 'chain seq hash', got {line.strip()!r}",
                       err=True)
            sys.exit(2)
        anchors.append((fields[0], int(fields[1]), fields[2]))
    return anchors


@audit_cli.command("verify")
@click.option("--anchors", type=click.File(encoding="utf-8"),
              help="Chain heads printed earlier by `flask audit heads` and kept outside the database.")
def verify(anchors):
    """Check every chain; exit 1 naming the first bad entry of each broken chain."""
    report = chains.verify(get_db(), anchors=read_anchors(anchors) if anchors else ())
    for chain in report["chains"]:
        name = chain["chain"] or "(no chain)"
        bad = chain["first_bad"]
        if bad:
            click.echo(f"Chain {name}: {chain['entries']} entries, BROKEN at {bad['id']} "
                       f"({bad['problem']}): {bad['detail']}")
        else:
            click.echo(f"Chain {name}: {chain['entries']} entries, intact.")
    if not report["ok"]:
        bad = report["first_bad"]
        click.echo(f"The audit trail is broken: first bad entry {bad['id']} ({bad['problem']}).", err=True)
        sys.exit(1)
    click.echo(f"{len(report['chains'])} chains, {report['entries']} entries: the audit trail is intact.")


@audit_cli.command("heads")
def heads():
    """Print "chain seq hash", the newest entry of every chain. Keep the output outside the
    database (print it, mail it to the county): `verify --anchors` then notices entries
    removed from the end or rewritten even by someone who also rewrote the chain heads."""
    for name, end in sorted(chains.ends(get_db()).items()):
        click.echo(f"{name} {end['seq']} {end['hash']}")
