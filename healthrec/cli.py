"""Operator commands: `flask users|regions|demo|indexes|archives|keys|audit|custody|prune|backup ...`."""

import sys
from datetime import timedelta

import click
from flask.cli import AppGroup

from healthrec import demo, idempotency
from healthrec.archives.cli import archives
from healthrec.audit.cli import audit_cli
from healthrec.auth import service as auth
from healthrec.auth.roles import ROLES
from healthrec.backup.cli import backup_cli
from healthrec.clock import now
from healthrec.custody.cli import custody_cli
from healthrec.db import ensure_indexes, get_db
from healthrec.errors import DomainError
from healthrec.keys.cli import keys
from healthrec.regions import service as regions


def fail(error):
    click.echo(f"Error: {error.detail}", err=True)
    for field, messages in error.extra.get("errors", {}).items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


def read_password(from_stdin):
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


users = AppGroup("users", help="Create, list, disable users and reset passwords.")


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--region", required=True, help="Region code the user's scope covers.")
@click.option("--name", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(username, role, region, name, password_stdin):
    try:
        auth.check_user_fields(username, role, region)
        auth.create_user(username, role, region, read_password(password_stdin), name)
    except DomainError as error:
        fail(error)
    click.echo(f"Created {role} {username} for region {region}.")


@users.command("list")
def users_list():
    for user in auth.list_users():
        state = "disabled" if user.disabled else "active"
        click.echo(f"{user.username}\t{user.role}\t{user.region}\t{state}\t{user.name}")


@users.command("disable")
@click.argument("username")
def users_disable(username):
    try:
        auth.disable_user(username)
    except DomainError as error:
        fail(error)
    click.echo(f"Disabled {username}; their sessions and tokens have ended.")


@users.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_reset_password(username, password_stdin):
    try:
        auth.reset_password(username, read_password(password_stdin))
    except DomainError as error:
        fail(error)
    click.echo(f"New password set for {username}; their sessions and tokens have ended.")


regions_cli = AppGroup("regions", help="Import regions and their populations.")


@regions_cli.command("import")
@click.argument("file", type=click.File(encoding="utf-8-sig"))
def regions_import(file):
    """Load FILE.csv rows code,name,population,year (parents before children)."""
    try:
        count = regions.import_csv(file.read())
    except DomainError as error:
        click.echo(f"Error: {error.detail}", err=True)
        for line in error.extra.get("lines", []):
            click.echo(f"  line {line['line']}: {line['reason']}", err=True)
        sys.exit(1)
    click.echo(f"Imported {count} rows.")


demo_cli = AppGroup("demo", help="Demo data for trying the service out.")


@demo_cli.command("seed")
@click.option("--residents", default=200, show_default=True, type=click.IntRange(min=0),
              help="How many archives to create (each with a few years of service records).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has regions.")
def demo_seed(residents, if_empty):
    if not demo.is_empty():
        if if_empty:
            click.echo("The database already has data; demo seeding skipped.")
            return
        click.echo("Error: the database already has regions; seed only an empty database.", err=True)
        sys.exit(1)
    logins = demo.seed()
    with click.progressbar(length=residents, label="Creating resident archives and their records") as bar:
        for made in demo.residents(residents):
            bar.update(made)
    click.echo(f"Demo logins (password for all: {demo.PASSWORD}):")
    for username, _password, role, region in logins:
        click.echo(f"  {username:<10} {role:<15} {region}")


@click.command("prune")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="Keep what is younger than this many days.")
def prune(days):
    """Drop bookkeeping that grows forever: used Idempotency-Keys, failed logins and
    expired API tokens.

    Without TTL indexes (FerretDB has none) a scheduled run of this keeps them small.
    """
    at = now()
    before = at - timedelta(days=days)
    keys = idempotency.prune(before)
    failures = auth.prune_login_failures(before)
    tokens = auth.prune_tokens(at)
    click.echo(f"Removed {keys} idempotency keys and {failures} failed logins older than {days} days, "
               f"and {tokens} expired tokens.")


indexes = AppGroup("indexes", help="Database indexes.")


@indexes.command("create")
def indexes_create():
    ensure_indexes(get_db())
    click.echo("Indexes are in place.")


commands = [users, regions_cli, demo_cli, indexes, keys, archives, audit_cli, custody_cli, prune, backup_cli]
