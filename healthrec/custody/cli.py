"""`flask custody move|merge|check|list`: hand villages' archives to another township."""

import sys

import click
from flask.cli import AppGroup

from healthrec.custody import mergers
from healthrec.errors import DomainError
from healthrec.regions import service as regions

custody_cli = AppGroup("custody", help="Hand the archives of villages or of a whole township to another township.")

DAY = click.DateTime(formats=["%Y-%m-%d"])


def _fail(error):
    click.echo(f"Error: {error.detail}", err=True)
    for field, messages in error.extra.get("errors", {}).items():
        for message in messages:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


def _name(code):
    try:
        return regions.get_region(code)["name"]
    except DomainError:
        return "?"


def _carry_out(plan):
    click.echo(f"Move {plan['_id']}: {len(plan['villages'])} villages to {plan['to']} ({_name(plan['to'])}), "
               f"effective {plan['effective']}; started {plan['started_at']:%Y-%m-%d %H:%M} UTC.")
    report = mergers.run(plan, lambda village, moved: click.echo(
        f"  {village} {_name(village)}: {moved} archives moved"))
    _report(report)


def _report(report):
    click.echo("Archives of the moved villages, per custodian township:")
    for township, counts in report["custodians"].items():
        click.echo(f"  {township} {_name(township)}: {counts['before']} before, {counts['after']} after")
    click.echo("All archives of each township involved:")
    for township, counts in report["totals"].items():
        click.echo(f"  {township} {_name(township)}: {counts['before']} before, {counts['after']} after")
    click.echo("Family-doctor contracts of the moved villages, per custodian township:")
    for township, counts in report["contracts"].items():
        click.echo(f"  {township} {_name(township)}: {counts['before']} before, {counts['after']} after")
    if report["teams"]:
        click.echo("Family-doctor teams of the two townships:")
        for township, counts in report["teams"].items():
            click.echo(f"  {township} {_name(township)}: {counts['before']} before, {counts['after']} after")
    if report["made_during"]:
        click.echo(f"{report['made_during']} archives were made in these villages during the move.")
    if report["merged"]:
        click.echo(f"Township {report['merged']} is retired; its staff accounts now serve {report['to']}.")
    if not report["ok"]:
        click.echo(f"COMPLETENESS CHECK FAILED for {report['move']}:", err=True)
        for problem in report["problems"]:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo(f"Complete: every archive of the {len(report['villages'])} villages is with {report['to']}.")


@custody_cli.command("move")
@click.option("--village", "villages", multiple=True, required=True, help="A village to move; repeat for more.")
@click.option("--to", "to_township", required=True, help="The township (9 digits) that takes them over.")
@click.option("--effective", required=True, type=DAY, help="The day the new township is in charge (YYYY-MM-DD).")
@click.option("--reason", help="The decision behind it, e.g. the county's document number.")
def move(villages, to_township, effective, reason):
    """Give villages to another township, with all their archives. Run it again to resume."""
    try:
        _carry_out(mergers.start(villages, to_township, effective.date(), reason))
    except DomainError as error:
        _fail(error)


@custody_cli.command("merge")
@click.argument("township")
@click.option("--into", "to_township", required=True, help="The township (9 digits) that takes it over.")
@click.option("--effective", required=True, type=DAY, help="The day the merger takes effect (YYYY-MM-DD).")
@click.option("--reason", help="The decision behind it, e.g. the county's document number.")
def merge(township, to_township, effective, reason):
    """Merge TOWNSHIP into another: its villages, archives and staff accounts go over, and it
    is retired the day before EFFECTIVE. Run it again to resume."""
    try:
        _carry_out(mergers.start((), to_township, effective.date(), reason, merged=township))
    except DomainError as error:
        _fail(error)


@custody_cli.command("check")
@click.argument("move_id")
def check(move_id):
    """Count the archives of a move again, per custodian; exit 1 on any difference."""
    try:
        _report(mergers.check(mergers.load(move_id)))
    except DomainError as error:
        _fail(error)


@custody_cli.command("list")
def list_moves():
    """Every move, newest first, with its state."""
    for plan in mergers.plans():
        click.echo(f"{plan['_id']}\t{plan['status']}\t{plan['effective']}\t{len(plan['villages'])} villages"
                   f" -> {plan['to']}")
