"""What every page shares: who is signed in and where, the menu by role, safe return
addresses, error messages in the reader's language, and the form round trip (draw a
schema's form, read it back, show what the schema or the service refused)."""

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import g, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, ValidationError

from healthrec.auth import roles
from healthrec.errors import Invalid, NotFound, dotted
from healthrec.regions import service as regions
from healthrec.web import schema_form
from healthrec.web.messages import localise, localise_all
from schemas.access import ConsentIn
from schemas.archives import ArchiveChange
from schemas.paging import MAX_PAGE
from schemas.records.registry import field_at

# The menu of each role: (endpoint, text).
MENUS = {
    roles.VILLAGE_DOCTOR: [
        ("web.home", _l("Home")), ("web.archives.new", _l("New archive")),
        ("web.township.access_requests", _l("Access requests")), ("web.township.referrals", _l("Referrals")),
        ("web.transfers.inbox", _l("Transfers")),
        ("web.dashboard.dashboard", _l("Indicators")),
    ],
    roles.TOWNSHIP_STAFF: [
        ("web.home", _l("Home")), ("web.township.review", _l("Review")),
        ("web.township.access_requests", _l("Access requests")),
        ("web.township.break_glass_queue", _l("Emergency openings")),
        ("web.township.referrals", _l("Referrals")), ("web.transfers.inbox", _l("Transfers")),
        ("web.township.audit_trail", _l("Audit trail")),
        ("web.archives.new", _l("New archive")),
        ("web.dashboard.dashboard", _l("Indicators")), ("web.samples.samples_list", _l("Verification samples")),
    ],
    roles.SUPERVISOR: [("web.home", _l("Home")), ("web.township.access_requests", _l("Access requests")),
                       ("web.dashboard.dashboard", _l("Indicators")),
                       ("web.samples.samples_list", _l("Verification samples"))],
    roles.ADMIN: [("web.home", _l("Home")), ("web.admin.users", _l("User accounts")),
                  ("web.admin.regions_import", _l("Regions and populations")),
                  ("web.admin.key_status", _l("Encryption keys"))],
}


def region_name(code):
    """A region's name, or its code when it is not a known region (a province prefix)."""
    try:
        return regions.get_region(code)["name"]
    except (Invalid, NotFound):
        return code


def label_in(schema, name, code=None):
    """The label of field `name` (a dotted path) of `schema`, or of `code` in that coded field."""
    field = field_at(schema, name)
    if field is None:
        return name if code is None else code
    if code is None:
        return field.metadata.get("label") or name
    inner = getattr(field, "inner", field)
    labels = field.metadata.get("labels") or inner.metadata.get("labels") or {}
    return labels.get(code, code)


def archive_label(name, code=None):
    """An archive field's label (`name`), or its code's (sex, key_populations…)."""
    return label_in(ARCHIVE, name, code)


def consent_label(name, code=None):
    return label_in(CONSENT, name, code)


ARCHIVE, CONSENT = ArchiveChange(), ConsentIn()

# What is due (the due list's reasons), in words; a population's own are composed with its label.
DUE = {
    "urgent_referral": _l("urgent: refer at once"), "elderly_checkup": _l("yearly checkup (65 and over)"),
    "chronic_checkup": _l("yearly checkup (chronic disease)"), "child_visit": _l("child health visit"),
    "maternal_visit": _l("maternal health visit"),
}
DUE_OF_POPULATION = {"": _l("%(population)s follow-up"), "_recheck": _l("%(population)s: recheck within 2 weeks"),
                     "_face_to_face": _l("%(population)s: this quarter's face-to-face follow-up")}


def due_reason(reason):
    """Why an item is on the due list, in words."""
    if reason in DUE:
        return gettext(DUE[reason])
    for suffix in ("_recheck", "_face_to_face", ""):
        population = reason.removesuffix(suffix)
        if population != reason or not suffix:
            return gettext(DUE_OF_POPULATION[suffix], population=archive_label("key_populations", population))
    return reason


def page_context():
    if not current_user.is_authenticated:
        return {}
    if "signed_in_region" not in g:
        g.signed_in_region = region_name(current_user.region)
    return {"signed_in_region": g.signed_in_region, "menu": MENUS.get(current_user.role, [])}


def safe_next(target, default):
    """`target` when it is a path of this site, else `default`: never a redirect elsewhere."""
    if not target:
        return default
    parts = urlsplit(target)
    if (parts.netloc and parts.netloc != request.host) or not parts.path.startswith("/") \
            or parts.path.startswith("//"):
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")


def form_key():
    """The Idempotency-Key of a form that creates something: the one it was sent with, so a
    resend after a dropped connection is recognised, or a new one for a form shown afresh."""
    return request.form.get("Idempotency-Key") or str(uuid.uuid4())


def page_number():
    """?page= of a paged list (1 when missing or not a number)."""
    page = request.args.get("page", type=int) or 1
    return page if 1 <= page <= MAX_PAGE else 1


def message(error):
    """A domain error's detail in the reader's language."""
    return localise(error.detail)


@dataclass
class Form:
    """One schema's form on a page: its widgets, the errors and their labels.

    `prefix` puts the fields under a path (`records.0.`); `hidden` are fields the page
    sets itself (a record's kind), `none_known` fields that take "none (asked)".
    """

    schema: Schema
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    prefix: str = ""
    hidden: dict = field(default_factory=dict)
    none_known: tuple = ()
    title: str = ""

    @property
    def widgets(self):
        return schema_form.widgets(self.schema, self.values, self.errors, self.prefix, skip=self.hidden,
                                   none_known=tuple(self.prefix + name for name in self.none_known))

    def read(self, form=None):
        """The API body from the submitted form (the page's own fields included)."""
        form = form if form is not None else request.form
        self.values = {**schema_form.body(self.schema, form, self.prefix, skip=self.hidden,
                                          none_known=tuple(self.prefix + name for name in self.none_known)),
                       **self.hidden}
        return self.values

    def load(self, form=None, check=None):
        """The submitted body checked by `check` (the schema's load): what it returns, or
        None with the errors kept."""
        body = self.read(form)
        try:
            return (check or self.schema.load)(body)
        except ValidationError as error:
            self.refused(dotted(error.normalized_messages(), self.prefix))
            return None

    def refused(self, errors):
        """Errors keyed by API path (from a schema or a service's Invalid), localised."""
        self.errors.update(localise_all(errors))

    @property
    def names(self):
        return set(labels(self))


def labels(*forms):
    """{field path: label} of every field of `forms`, for the error summary's links."""
    found = {}

    def walk(widgets):
        for w in widgets:
            found[w.name] = w.label
            walk(w.children)
            for row in w.rows:
                walk(row)

    for form in forms:
        walk(form.widgets)
    return found


def errors_of(*forms):
    merged = {}
    for form in forms:
        merged.update(form.errors)
    return merged


def refused(error, *forms):
    """Show a service's Invalid next to the fields of `forms` it names; the first form takes
    the rest (shown in the summary at the top)."""
    for name, messages in (error.extra.get("errors") or {"_schema": [error.detail]}).items():
        target = next((form for form in forms if form.prefix + name in form.names), None)
        if target is not None:
            target.refused({target.prefix + name: messages})
        else:
            forms[0].refused({name: messages})


def render(template, http_status=200, **context):
    """A page; a form with errors answers 422 so that scripts and tests can tell."""
    forms = []
    for value in context.values():
        values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
        forms += [form for form in values if isinstance(form, Form)]
    errors = errors_of(*forms)
    if errors and http_status == 200:
        http_status = 422
    return render_template(template, errors=errors, labels=labels(*forms), **context), http_status

