"""The archive pages: a new archive, an archive with its timeline and consent log, its
basic information changed, a visit's forms saved together, a record amended, an archive
closed, and an emergency opening of an archive outside one's region."""


from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from healthrec.access import break_glass
from healthrec.access import consent_log as consents
from healthrec.access.grants import BREAK_GLASS_PURPOSE, SAMPLE_PURPOSE
from healthrec.archives import rules
from healthrec.archives import service as archives
from healthrec.auth import roles
from healthrec.clock import today
from healthrec.errors import (
    Conflict,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    TooManyRequests,
)
from healthrec.records import kinds, reads, writes
from healthrec.web.messages import localise
from healthrec.web.pages import Form, form_key, label_in, message, page_number, refused, render
from healthrec.web.schema_form import diff, widgets
from schemas.access import BreakGlassIn
from schemas.archives import ArchiveChange, ArchiveCreate, CloseRequest
from schemas.records.envelopes import AmendBody, TimelineQuery
from schemas.records.followups import POPULATIONS
from schemas.records.registry import KINDS, schema_for, validate_record

bp = Blueprint("archives", __name__, url_prefix="/archives")

# Lists and objects whose absence the completeness check counts as missing: the form
# offers "none (asked)" for them.
NONE_KNOWN = tuple(name for name in rules.REQUIRED if name in ("family_history", "past_history", "allergies"))
TIMELINE_PAGE = 10


def code_label(schema_field, code):
    labels = schema_field.metadata.get("labels") or {}
    return labels.get(code, code)


def form_title(kind, population=None):
    """What a record form is called: its kind, a follow-up by its population."""
    fields = TimelineQuery().fields
    if population:
        return _("Follow-up: %(population)s", population=code_label(fields["population"], population))
    return code_label(fields["kind"], kind)


def offered_forms(archive):
    """The record forms that fit the person, as "kind" or "followup.population": every
    kind, and the follow-ups of their key populations, of their age and sex."""
    minor = rules.is_minor(archive["birth_date"], today())
    populations = []
    for population in POPULATIONS:
        if population in rules.DERIVED:
            fits = population in archive["key_populations"]
        elif population == "maternal":
            fits = archive["sex"] == "female" and not minor
        else:
            fits = not minor
        if fits:
            populations.append(population)
    # The person's own populations first: those are the follow-ups they are due.
    populations.sort(key=lambda population: population not in archive["key_populations"])
    specs = [f"followup.{population}" for population in populations]
    return specs + [kind for kind in KINDS if kind != "followup"]


def parse_spec(spec):
    kind, _, population = spec.partition(".")
    if kind not in KINDS or (kind == "followup") != bool(population) or \
            (population and population not in POPULATIONS):
        return None
    return kind, population or None


def record_form(spec, n, values=None):
    kind, population = spec
    hidden = {"kind": kind, **({"population": population} if population else {})}
    return Form(schema_for(kind, population), values=values if values is not None else {"date": today()},
                prefix=f"records.{n}.", hidden=hidden, title=form_title(kind, population))


def archive_form(schema, values=None):
    return Form(schema, values=values or {}, none_known=NONE_KNOWN)


# --- New archive ------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    village = current_user.region if current_user.role == roles.VILLAGE_DOCTOR else ""
    form = archive_form(ArchiveCreate(), {"village_code": village, "enrolment_consent": {"decision": "granted"}})
    existing = None
    # A resend of the same page (after a dropped connection) gives back the archive the
    # first send made, rather than a second one for a resident without an ID card.
    key = form_key()
    if request.method == "POST" and "_more" not in request.form:
        data = form.load()
        if data is not None:
            try:
                archive, warnings, created = archives.create_archive(current_user, data, idempotency_key=key)
            except Invalid as error:
                refused(error, form)
            except Conflict as error:
                existing = error.extra.get("existing_id")
                flash(message(error), "error")
            else:
                if created:
                    flash(_("Archive %(id)s was created.", id=archive["id"]), "success")
                else:
                    flash(_("Archive %(id)s had already been created; nothing was saved twice.", id=archive["id"]),
                          "success")
                warn(warnings)
                return redirect(url_for(".show", archive_id=archive["id"]))
    elif request.method == "POST":
        form.read()
    return render("archives/new.html", form=form, existing=existing, key=key)


def warn(warnings):
    """The service's warnings (an ID card's unknown area code, say), shown on the next page."""
    for warning in warnings:
        flash(localise(warning["message"]), "warning")


# --- One archive ------------------------------------------------------------------------

@bp.get("/<archive_id>")
@login_required
def show(archive_id):
    try:
        archive, allowed = archives.read_archive(current_user, archive_id)
    except NotFound as error:
        # The same page whether it does not exist or lies outside the region.
        return outside_scope(archive_id, error)
    timeline = reads.timeline(current_user, archive_id, page=page_number(), per_page=TIMELINE_PAGE)
    # Each record's own fields; what kind it is and when stand in its heading.
    entries = [{**item, "title": form_title(item["kind"], item.get("population")),
                "shown": widgets(schema_for(item["kind"], item.get("population")), item,
                                 skip=("kind", "population", "date"))}
               for item in timeline["items"]]
    closed = archive["closed"] and label_in(CloseRequest(), "reason", archive["closed"]["reason"])
    return render("archives/show.html", archive=archive, allowed=allowed,
                  emergency=BREAK_GLASS_PURPOSE, sample=SAMPLE_PURPOSE,
                  timeline=timeline, entries=entries, closed_reason=closed,
                  basic=archive_form(ArchiveChange(), archive).widgets,
                  consents=consents.consent_log(current_user, archive_id),
                  offered=[(spec, form_title(*parse_spec(spec))) for spec in offered_forms(archive)],
                  may_write=current_user.role in (roles.VILLAGE_DOCTOR, roles.TOWNSHIP_STAFF)
                  and current_user.covers(archive["village_code"]))


def outside_scope(archive_id, error):
    """No archive to show (none, or outside one's region: the same answer): say how to get
    access; clinicians may open one of their county in an emergency."""
    clinician = current_user.role in (roles.VILLAGE_DOCTOR, roles.TOWNSHIP_STAFF)
    form = Form(BreakGlassIn())
    key = form_key()
    if request.method == "POST" and clinician:
        data = form.load()
        if data is not None:
            try:
                break_glass.open_archive(current_user, archive_id, data["reason"], key)
            except Invalid as invalid:
                refused(invalid, form)
            except (Conflict, NotFound, TooManyRequests) as refusal:
                flash(message(refusal), "error")
            else:
                flash(_("Opened in an emergency; the township health centre will review this."), "warning")
                return redirect(url_for(".show", archive_id=archive_id))
    return render("archives/outside.html", 404, archive_id=archive_id, reason=error and message(error),
                  form=form if clinician else None, key=key)


@bp.post("/<archive_id>/break-glass")
@login_required
def emergency(archive_id):
    return outside_scope(archive_id, None)


@bp.route("/<archive_id>/edit", methods=["GET", "POST"])
@login_required
def edit(archive_id):
    archive = archives.get_archive(current_user, archive_id)
    form = archive_form(ArchiveChange(), archive)
    if request.method == "POST" and "_more" not in request.form:
        data = form.load()
        if data is not None:
            # Fields emptied on the form are cleared; the rest replaced as a whole.
            changes = {name: data.get(name) for name in form.schema.fields
                       if data.get(name) is not None or archive.get(name) is not None}
            try:
                _archive, warnings = archives.update_archive(current_user, archive_id, changes,
                                                             request.form.get("version", type=int))
            except Invalid as error:
                refused(error, form)
            except (Conflict, PreconditionFailed) as error:
                flash(message(error), "error")
            else:
                flash(_("The archive was saved."), "success")
                warn(warnings)
                return redirect(url_for(".show", archive_id=archive_id))
    elif request.method == "POST":
        form.read()
    return render("archives/edit.html", archive=archive, form=form)


@bp.route("/<archive_id>/close", methods=["GET", "POST"])
@login_required
def close(archive_id):
    archive = archives.get_archive(current_user, archive_id)
    form = Form(CloseRequest(), values={"date": today()})
    if request.method == "POST":
        data = form.load()
        if data is not None:
            try:
                archives.close_archive(current_user, archive_id, data["reason"], data["date"], data.get("note"),
                                       data.get("duplicate_of"), request.form.get("version", type=int))
            except Invalid as error:
                refused(error, form)
            except (Conflict, PreconditionFailed) as error:
                flash(message(error), "error")
            else:
                flash(_("The archive was closed. It stays readable; nothing was deleted."), "success")
                return redirect(url_for(".show", archive_id=archive_id))
    return render("archives/close.html", archive=archive, form=form)


# --- Records ----------------------------------------------------------------------------

@bp.route("/<archive_id>/visit", methods=["GET", "POST"])
@login_required
def visit(archive_id):
    """The forms of one visit, saved together; the Idempotency-Key the form carries makes a
    resubmit (after a dropped connection) give back what the first one saved."""
    archive = archives.get_archive(current_user, archive_id)
    # The forms chosen travel in the query string, on the page and the form sent from it.
    specs = [spec for spec in map(parse_spec, request.args.getlist("form")) if spec]
    if not specs:
        flash(_("Choose at least one form for the visit."), "error")
        return redirect(url_for(".show", archive_id=archive_id))
    forms = [record_form(spec, n) for n, spec in enumerate(specs)]
    key = form_key()
    if request.method == "POST":
        checked = [form.load(check=validate_record) for form in forms]
        if "_more" not in request.form and all(content is not None for content in checked):
            try:
                records, created = writes.create_records(current_user, archive_id, checked, key)
            except Invalid as error:
                refused(error, *forms)
            except Conflict as error:
                flash(message(error), "error")
            else:
                return saved(archive_id, records, created)
        if "_more" in request.form:
            for form in forms:
                form.errors.clear()
    return render("archives/visit.html", archive=archive, forms=forms, key=key, specs=specs)


def saved(archive_id, records, created):
    if created:
        flash(_("Saved: %(forms)s.", forms=", ".join(form_title(r["kind"], r.get("population")) for r in records)),
              "success")
    else:
        flash(_("These forms had already been saved; nothing was saved twice."), "success")
    for record in records:
        for alert in record.get("alerts") or []:
            flash(localise(alert.get("detail") or alert.get("code", "")), "error")
    return redirect(url_for(".show", archive_id=archive_id))


@bp.route("/<archive_id>/records/<record_id>/amend", methods=["GET", "POST"])
@login_required
def amend(archive_id, record_id):
    """Correct a record: the form as it stands, and the reason; the old version stays."""
    archive = archives.get_archive(current_user, archive_id)
    record = reads.get_record(current_user, archive_id, record_id)
    current = kinds.editable({name: value for name, value in reads.content_of(record).items()
                              if name not in ("id", "history")})
    spec = (record["kind"], record.get("population"))
    form = record_form(spec, 0, current)
    form.prefix = ""
    reason = Form(AmendBody(only=("reason",)))
    if request.method == "POST" and "_more" not in request.form:
        content = form.load(check=validate_record)
        why = reason.load()
        if content is not None and why is not None:
            try:
                writes.amend_record(current_user, archive_id, record_id, diff(current, kinds.editable(content)),
                                    why["reason"], request.form.get("version", type=int))
            except Invalid as error:
                # The service names the fields under `changes.`: the form's fields.
                refused(Invalid(error.detail, {name.removeprefix("changes."): messages for name, messages
                                               in (error.extra.get("errors") or {}).items()}), form, reason)
            except (Conflict, PreconditionFailed, PreconditionRequired) as error:
                flash(message(error), "error")
            else:
                flash(_("The record was corrected; the earlier version is kept."), "success")
                return redirect(url_for(".show", archive_id=archive_id))
    elif request.method == "POST":
        form.read()
    return render("archives/amend.html", archive=archive, record=record, form=form, reason=reason,
                  title=form_title(*spec))

