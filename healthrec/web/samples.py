"""Verification work (考核, plan §五.三): draw a sample of a region's archives, follow the
samples one checks or drew with their progress and the rates they give, and record the
result of each drawn archive. The rules are the samples service's; a checker opens a
drawn archive on its own page, where the archives service allows the read under the
sample and audits it."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from healthrec.errors import Conflict, Invalid, NotFound
from healthrec.metrics import samples
from healthrec.metrics.policy import ASSESSORS
from healthrec.web.pages import Form, form_key, message, page_number, refused, render
from schemas.metrics import METHODS, SAMPLE_STATUSES, ResultIn, SampleIn

bp = Blueprint("samples", __name__, url_prefix="/samples")

LIST_PAGE = 20  # each sample on the page costs a count of its results
DRAWN_PAGE = 50
STATUS_LABELS = {"open": _l("open"), "expired": _l("ended: last day passed"), "closed": _l("closed early")}


def percent(value):
    return "—" if value is None else f"{value:.1f}%"


@bp.context_processor
def words():
    return {"sample_statuses": STATUS_LABELS, "rate": percent, "result_method": lambda code: METHODS.get(code, code)}


@bp.get("")
@login_required
def samples_list():
    status = request.args.get("status")
    status = status if status in SAMPLE_STATUSES else None
    listed = samples.list_samples(current_user, status=status, page=page_number(), per_page=LIST_PAGE)
    return render("samples/list.html", listed=listed, status=status, statuses=SAMPLE_STATUSES,
                  may_draw=current_user.role in ASSESSORS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def draw():
    # The seed is for repeating a draw through the API; a new sample here gets a random one.
    form = Form(SampleIn(exclude=("seed",)), values={"region": current_user.region})
    key = form_key()
    status = 200
    if request.method == "POST":
        data = form.load()
        if data is not None:
            try:
                sample, _created = samples.draw(current_user, **data, idempotency_key=key)
            except Invalid as error:
                refused(error, form)
            else:
                flash(_("%(num)d archives were drawn.", num=sample["size"]), "success")
                return redirect(url_for(".sample", sample_id=sample["id"]))
    return render("samples/new.html", status, form=form, key=key)


@bp.get("/<sample_id>")
@login_required
def sample(sample_id):
    item = samples.get_sample(current_user, sample_id)
    results = {result["archive_id"]: result for result in item["results"]}
    page = page_number()
    drawn = item["archives"]
    return render("samples/sample.html", item=item, results=results,
                  drawn={"items": drawn[(page - 1) * DRAWN_PAGE:page * DRAWN_PAGE], "total": len(drawn),
                         "page": page, "per_page": DRAWN_PAGE},
                  checking=current_user.username in item["checkers"] and item["status"] == "open")


@bp.route("/<sample_id>/archives/<archive_id>", methods=["GET", "POST"])
@login_required
def check(sample_id, archive_id):
    """The result of one drawn archive: the form, or what was recorded."""
    item = samples.get_sample(current_user, sample_id)
    if archive_id not in item["archives"]:
        raise NotFound(f"Archive {archive_id} was not drawn in this sample.")
    form = Form(ResultIn(), hidden={"archive_id": archive_id})
    key = form_key()
    status = 200
    if request.method == "POST":
        data = form.load()
        if data is not None:
            try:
                samples.record_result(current_user, sample_id, **data, idempotency_key=key)
            except Invalid as error:
                refused(error, form)
            except Conflict as error:
                flash(message(error), "error")
                status = 409
            else:
                flash(_("The result for archive %(id)s was recorded.", id=archive_id), "success")
                return redirect(url_for(".sample", sample_id=sample_id))
    result = next((result for result in item["results"] if result["archive_id"] == archive_id), None)
    return render("samples/check.html", status, item=item, archive_id=archive_id, result=result, form=form, key=key,
                  checking=current_user.username in item["checkers"] and item["status"] == "open")


@bp.post("/<sample_id>/close")
@login_required
def close(sample_id):
    try:
        samples.close(current_user, sample_id)
    except Conflict as error:
        flash(message(error), "error")
    else:
        flash(_("The sample was closed; its checkers can no longer open its archives."), "success")
    return redirect(url_for(".sample", sample_id=sample_id))
