"""The township health centre's work: the review queue, access requests (inbox, decision,
the resident's answer, revocation, the printable application and consent record),
emergency openings to acknowledge, incoming referrals, and the township's audit trail."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from healthrec.access import break_glass, requests
from healthrec.access import consent_log as consents
from healthrec.archives import service as archives
from healthrec.audit import service as audit
from healthrec.audit.views import ACTIONS
from healthrec.auth import roles
from healthrec.errors import Conflict, Invalid, NotFound, PreconditionFailed
from healthrec.records import worklists, writes
from healthrec.web.pages import Form, form_key, message, page_number, refused, render
from schemas.access import REQUEST_STATUSES, AccessRequestIn, AcknowledgeIn, ConsentIn, DecisionIn
from schemas.archives import ReviewRequest

bp = Blueprint("township", __name__)

# The review queue's two lists: not reviewed yet, and sent back for correction.
QUEUES = ("none", "needs_correction")


# --- Review -----------------------------------------------------------------------------

@bp.get("/review")
@login_required
def review():
    return review_page()


@bp.post("/review/<archive_id>")
@login_required
def review_archive(archive_id):
    form = Form(ReviewRequest(), prefix="")
    data = form.load()
    if data is not None:
        try:
            archives.review_archive(current_user, archive_id, data["verdict"], data.get("note"),
                                    request.form.get("version", type=int))
        except Invalid as error:
            refused(error, form)
        except PreconditionFailed as error:
            flash(message(error), "error")
        else:
            flash(_("Archive %(id)s: review saved.", id=archive_id), "success")
            return redirect(url_for(".review", show=request.args.get("show", "none")))
    return review_page(archive_id, form)


def review_page(failed_id=None, failed_form=None):
    show = request.args.get("show", "none")
    show = show if show in QUEUES else "none"
    queue = archives.search_archives(current_user, review=show, page=page_number())
    forms = {item["id"]: failed_form if item["id"] == failed_id else Form(ReviewRequest())
             for item in queue["items"]}
    return render("township/review.html", queue=queue, show=show, forms=forms)


# --- Access requests --------------------------------------------------------------------

@bp.get("/access-requests")
@login_required
def access_requests():
    status = request.args.get("status") or None
    status = status if status in REQUEST_STATUSES else None
    listed = requests.list_requests(current_user, status=status, page=page_number())
    return render("township/access_requests.html", listed=listed, status=status, statuses=REQUEST_STATUSES)


@bp.route("/access-requests/new", methods=["GET", "POST"])
@login_required
def new_access_request():
    form = Form(AccessRequestIn(), values={"archive_id": request.args.get("archive_id", ""), "days": 7})
    key = form_key()
    if request.method == "POST":
        data = form.load()
        if data is not None:
            try:
                created, _new = requests.create_request(current_user, **data, idempotency_key=key)
            except Invalid as error:
                refused(error, form)
            except NotFound as error:
                form.refused({"archive_id": [error.detail]})
            else:
                flash(_("Your application was filed; the township health centre decides it."), "success")
                return redirect(url_for(".access_request", request_id=created["id"]))
    return render("township/access_request_new.html", form=form, key=key)


@bp.get("/access-requests/<request_id>")
@login_required
def access_request(request_id):
    return request_page(request_id)


@bp.post("/access-requests/<request_id>/<step>")
@login_required
def access_step(request_id, step):
    """decision, consent or revoke, each with its schema's form."""
    schemas = {"decision": DecisionIn, "consent": ConsentIn}
    if step not in (*schemas, "revoke"):
        return request_page(request_id)
    form = Form(schemas[step]()) if step in schemas else None
    data = form.load() if form else {}
    if data is not None:
        try:
            if step == "decision":
                requests.decide(current_user, request_id, data["decision"], data.get("note"))
            elif step == "consent":
                requests.record_consent(current_user, request_id, **data)
            else:
                requests.revoke(current_user, request_id)
        except Invalid as error:
            refused(error, form or Form(ConsentIn()))
        except Conflict as error:
            flash(message(error), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".access_request", request_id=request_id))
    return request_page(request_id, **({step: form} if form else {}))


def consent_record(item):
    """The consent log's entries about access request `item`, or None when the reader may
    not see the log (the requester, before the resident has consented)."""
    try:
        return [entry for entry in consents.consent_log(current_user, item["archive_id"])
                if entry.get("request_id") == item["id"]]
    except NotFound:
        return None


def request_page(request_id, decision=None, consent=None):
    item = requests.get_request(current_user, request_id)
    log = consent_record(item)
    # Which steps to offer; the access service decides whether each is allowed.
    staff = current_user.role == roles.TOWNSHIP_STAFF and current_user.covers(item["village"])
    own_village = current_user.role == roles.VILLAGE_DOCTOR and current_user.covers(item["village"])
    mine = item["requester"] == current_user.username
    status = item["status"]
    if not (staff and not mine and status == "pending"):
        decision = None
    elif decision is None:
        decision = Form(DecisionIn())
    if not ((staff or own_village) and not mine and status in ("awaiting_consent", "active")):
        consent = None
    elif consent is None:
        consent = Form(ConsentIn())
    return render("township/access_request.html", item=item, log=log, decision=decision, consent=consent,
                  revocable=(staff or mine) and status in ("pending", "awaiting_consent", "active"))


# --- Emergency openings, referrals ------------------------------------------------------

@bp.get("/break-glass")
@login_required
def break_glass_queue():
    return openings_page()


def openings_page(failed_id=None, failed_form=None):
    chosen = request.args.get("status", "unreviewed")
    status = chosen if chosen in ("unreviewed", "acknowledged") else None
    listed = break_glass.list_openings(current_user, status=status, page=page_number())
    forms = {item["id"]: failed_form if item["id"] == failed_id else Form(AcknowledgeIn())
             for item in listed["items"]}
    return render("township/break_glass.html", listed=listed, status=status, forms=forms)


@bp.post("/break-glass/<opening_id>/acknowledge")
@login_required
def acknowledge(opening_id):
    form = Form(AcknowledgeIn())
    data = form.load()
    if data is not None:
        try:
            break_glass.acknowledge(current_user, opening_id, data.get("note"))
        except Conflict as error:
            flash(message(error), "error")
        else:
            flash(_("The emergency opening was reviewed."), "success")
            return redirect(url_for(".break_glass_queue"))
    return openings_page(opening_id, form)


@bp.get("/referrals")
@login_required
def referrals():
    status = "received" if request.args.get("status") == "received" else "sent"
    listed = worklists.incoming_referrals(current_user, status=status, page=page_number())
    return render("township/referrals.html", listed=listed, status=status)


@bp.post("/referrals/<archive_id>/<record_id>/receive")
@login_required
def receive(archive_id, record_id):
    try:
        writes.receive_referral(current_user, archive_id, record_id)
    except Conflict as error:
        flash(message(error), "error")
    else:
        flash(_("The referral was received."), "success")
    return redirect(url_for(".referrals"))


# --- Audit ------------------------------------------------------------------------------

@bp.get("/audit")
@login_required
def audit_trail():
    return audit_page()


@bp.get("/audit/verify")
@login_required
def audit_verify():
    return audit_page(audit.verify(current_user))


def audit_page(verification=None):
    listed = audit.list_entries(current_user, page=page_number())
    return render("township/audit.html", listed=listed, verification=verification, actions=ACTIONS)
