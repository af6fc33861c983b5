"""The indicator dashboard: a region's figures (plan §五.三) with its urban and rural parts
and each region one level down, each against its coverage target, a chart of coverage
per region, and the same table as an Excel workbook or CSV. Everyone sees their own
region and what lies within it; the region, day and period travel in the URL (a GET
form), which holds no personal data."""

from flask import Blueprint, request
from flask_login import current_user, login_required

from healthrec.errors import Invalid, NotFound
from healthrec.metrics import exports, indicators
from healthrec.regions import service as regions
from healthrec.web.charts import coverage_chart
from healthrec.web.pages import Form, refused, region_name, render
from schemas.metrics import CoverageQuery

bp = Blueprint("dashboard", __name__)

# What the URL may carry; the page's own form shows the day and the period.
QUERY = ("region", "as_of", "period")


def query_form():
    # The region is chosen by following the table's links; the form keeps it.
    region = request.args.get("region", "").strip() or current_user.region
    return Form(CoverageQuery(only=QUERY), hidden={"region": region})


def figures():
    """(form, table) for the query in the URL; the table is None when the form or the
    service refused it (the errors are on the form)."""
    form = query_form()
    query = form.load(request.args)
    if query is None:
        return form, None
    try:
        return form, indicators.coverage(current_user, query.get("region"), query.get("as_of"), query.get("period"))
    except Invalid as error:
        refused(error, form)
        return form, None


@bp.get("/dashboard")
@login_required
def dashboard():
    form, table = figures()
    if table is None:
        return render("dashboard/dashboard.html", 400, form=form, table=None)
    # The day and period chosen go with the links up and down the regions.
    kept = {name: request.args[name] for name in ("as_of", "period") if request.args.get(name)}
    return render("dashboard/dashboard.html", form=form, table=table, trail=trail(table["region"]),
                  chart=coverage_chart(table), kept=kept, query={**kept, "region": table["region"]})


@bp.get("/dashboard.<any(xlsx, csv):file_format>")
@login_required
def download(file_format):
    form, table = figures()
    if table is None:
        return render("dashboard/dashboard.html", 400, form=form, table=None)
    return exports.download(table, file_format)


def trail(code):
    """(code, name) of the regions from the user's own down to `code`'s parent: the way
    back up. Regions hang from their current parent (after a merger, not their code's)."""
    way: list[tuple[str, str]] = []
    while code != current_user.region and len(code) > len(current_user.region):
        try:
            code = regions.get_region(code)["parent"]
        except (Invalid, NotFound):
            break
        if not code:
            break
        way.insert(0, (code, region_name(code)))
    return way
