"""Transfers of custody: the receiving side asks for the archive of a resident who moved
into its village, the township that manages the archive confirms or refuses; both sides
follow them here."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from healthrec.auth import roles
from healthrec.clock import today
from healthrec.custody import transfers
from healthrec.errors import Conflict, Invalid, NotFound
from healthrec.web.pages import Form, form_key, message, page_number, refused, render
from schemas.custody import STATUSES, TransferDecision, TransferIn

bp = Blueprint("transfers", __name__)

STATUS_LABELS = {"pending": _l("Waiting for the decision"), "done": _l("Transferred"),
                 "refused": _l("Transfer refused"), "expired": _l("Ran out unanswered")}


@bp.get("/transfers")
@login_required
def inbox():
    return transfers_page()


def transfers_page(failed_id=None, failed_form=None):
    direction = request.args.get("direction")
    direction = direction if direction in ("incoming", "outgoing") else None
    status = request.args.get("status")
    status = status if status in STATUSES else None
    listed = transfers.list_transfers(current_user, direction=direction, status=status, page=page_number())
    # The decision is offered to the releasing township; the service checks who may.
    forms = {item["id"]: failed_form if item["id"] == failed_id else Form(TransferDecision())
             for item in listed["items"]
             if item["status"] == "pending" and current_user.role == roles.TOWNSHIP_STAFF
             and item["from_township"] == current_user.region}
    return render("township/transfers.html", listed=listed, direction=direction, status=status, forms=forms,
                  status_labels=STATUS_LABELS)


@bp.post("/transfers/<transfer_id>/decision")
@login_required
def decide(transfer_id):
    form = Form(TransferDecision())
    data = form.load()
    if data is not None:
        try:
            transfers.decide(current_user, transfer_id, data["decision"], data.get("note"))
        except Invalid as error:
            refused(error, form)
        except Conflict as error:
            flash(message(error), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".inbox"))
    return transfers_page(transfer_id, form)


@bp.get("/transfers/ask")
@login_required
def find():
    """From the archive code the resident brings to the form that asks for it."""
    code = "".join(request.args.get("archive_id", "").split())
    if not code.isdigit():
        flash(_("Enter the archive code from the resident's health record booklet."), "error")
        return redirect(url_for(".inbox"))
    return redirect(url_for(".ask", archive_id=code))


@bp.route("/archives/<archive_id>/transfer", methods=["GET", "POST"])
@login_required
def ask(archive_id):
    """The receiving side asks for an archive of a resident who moved into its region."""
    village = current_user.region if current_user.role == roles.VILLAGE_DOCTOR else ""
    form = Form(TransferIn(), values={"to_village": village, "moved_on": today()})
    key = form_key()
    if request.method == "POST":
        data = form.load()
        if data is not None:
            try:
                transfers.request_transfer(current_user, archive_id, **data, idempotency_key=key)
            except Invalid as error:
                refused(error, form)
            except (Conflict, NotFound) as error:
                flash(message(error), "error")
            else:
                flash(_("The transfer was asked for; the township that manages the archive decides."), "success")
                return redirect(url_for(".inbox"))
    return render("township/transfer_new.html", archive_id=archive_id, form=form, key=key)
