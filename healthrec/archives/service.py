"""Resident archives: creation, scoped reads and search, versioned changes, review and
closing. Every read, write and denial appends an audit entry; the locks that keep codes,
persons and versions unique without transactions are in `locks`.

Other domains (service records) reach an archive through `archive_for`, which applies
the scope rules and audits a denial, and record each use with `ArchiveAccess.audit`.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app

from healthrec import idempotency
from healthrec.access import consents
from healthrec.archives import locks, rules
from healthrec.archives.custody import custody_query, in_scope
from healthrec.archives.policy import CREATE, IMPORT, READ, REVIEW, WRITE, authorize
from healthrec.audit import pending
from healthrec.audit.log import deny, record
from healthrec.auth import roles
from healthrec.clock import now, today
from healthrec.crypto import DamagedValue, keyring
from healthrec.db import get_db
from healthrec.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, PreconditionRequired
from healthrec.ids import ArchiveCodeError, IdCardError, parse_id_card, site_layout
from healthrec.paging import page_of
from healthrec.regions import service as regions

# Fields a list shows: the name is the only one decrypted for it.
SUMMARY = ("village", "township", "county", "status", "name", "sex", "birth_date", "key_populations",
           "responsible_doctor", "completeness", "review", "version")
CUSTODY = {"village": 1, "township": 1, "county": 1}


def card_index(number):
    return keyring().blind_index("id_card:" + number)


def population_token(archive_id, flag):
    """The keyed token that archive `archive_id` carries when its doctor set `flag`.

    Bound to the archive: a token shared by every archive with a flag would show, by its
    frequency, which token is tuberculosis and who shares it (docs/security.md). So a
    token is matched for archives already in hand (the indicators' census, a filtered
    list), never looked up alone."""
    return keyring().blind_index(f"key_population:{archive_id}:{flag}")


def population_tokens(archive_id, flags):
    """What an archive stores to be matched by its flags: a token for every flag a doctor
    may set, a random one for those not set, so their number says nothing either."""
    return sorted(population_token(archive_id, flag) if flag in flags else secrets.token_hex(32)
                  for flag in rules.SET_BY_DOCTOR)


def has_population(doc, flag):
    """Whether the stored archive `doc` (its `_id` and `key_population_bi`) carries the
    doctor's `flag`, without decrypting anything."""
    return population_token(doc["_id"], flag) in doc.get("key_population_bi", ())


def name_index(name):
    # Names are searched by a blind index of the whole (normalised) name: an exact match
    # works on both servers and through the index, and equal names share one token, which
    # reveals only that two residents have the same full name. Indexing characters or the
    # surname would allow partial search, but a handful of surnames cover most of a
    # village, so those tokens could be matched to surnames by their frequency alone.
    return keyring().blind_index("name:" + rules.name_key(name))


# --- Access: the scope check with its audit entry, for this and other domains ---------

@dataclass
class ArchiveAccess:
    """An archive a user may use for one kind of action, and why; its `audit` method
    records each use with that purpose (and grant)."""

    user: object
    archive: dict  # the stored document, sensitive fields still sealed
    purpose: str
    grant: str | None
    until: datetime | None = None  # when the grant ends

    @property
    def archive_id(self):
        return self.archive["_id"]

    @property
    def village(self):
        return self.archive["village"]

    @property
    def custody(self):
        return {name: self.archive[name] for name in CUSTODY}

    @property
    def late(self):
        """True for a write to a closed archive: a paper form dated before it was closed."""
        return self.archive["status"] == "closed"

    def audit(self, action, outcome="ok", detail=None):
        record(self.user, action, outcome=outcome, archive_id=self.archive_id, region=self.village,
               township=self.archive["township"], purpose=self.purpose, grant=self.grant, detail=detail)

    def intent(self, action, detail=None, intent_id=None):
        """The entry `audit` would append, for a write to carry until it is (`audit.pending`)."""
        return pending.intent(self.user, action, intent_id=intent_id, archive_id=self.archive_id,
                              region=self.village, township=self.archive["township"], purpose=self.purpose,
                              grant=self.grant, detail=detail)


def authorized(user, action, custody, audit_as, archive_id=None):
    """The Access for `user` to `action` on what lies in `custody` (an archive's custody
    fields, or those of a region: `region_custody`); a refusal is audited as `audit_as`."""
    try:
        return authorize(user, action, custody, archive_id)
    except Forbidden as error:
        region = custody.get("village") or custody.get("township") or custody["county"]
        raise deny(user, audit_as, error, archive_id=archive_id, region=region,
                   township=custody.get("township")) from None


def region_custody(region):
    """The custody fields of region `region` now (its village, township and county as far
    as it goes down); a prefix above a county stands for the counties under it. Invalid,
    keyed by `village` (the filter that names one), when there is no such region."""
    if len(region) < 6:
        return {"county": region}
    try:
        return regions.custody_of(region)
    except NotFound:
        message = f"There is no region {region}; check the code."
        raise Invalid(message, {"village": [message]}) from None


def _village_of(archive_id):
    try:
        return site_layout().village_of(archive_id)
    except ArchiveCodeError as error:
        raise Invalid(str(error), {"id": [str(error)]}) from None


def custody(archive_id):
    """The custody fields (village, township, county) of archive `archive_id` now, whoever
    asks: for steps that concern an archive without reading it (an access request, an
    emergency opening, a transfer)."""
    _village_of(archive_id)
    doc = get_db().archives.find_one({"_id": archive_id}, CUSTODY)
    if doc is None:
        raise NotFound(f"No archive {archive_id}.")
    return {name: doc[name] for name in CUSTODY}


def follow_custody(collection, archive_id, ids, held):
    """After writing documents `ids` of `collection` that carry their archive's custody
    fields `held` as they were read: if a transfer or merger moved the archive meanwhile
    (after it moved the archive's other documents), these follow it too. The custody
    fields they carry now."""
    place = custody(archive_id)
    moved = {name: place[name] for name in held if place[name] != held[name]}
    if moved:
        get_db()[collection].update_many({"archive_id": archive_id, "_id": {"$in": list(ids)}}, {"$set": moved})
    return {**held, **moved}


def unknown(archive_id):
    """The answer to an archive that does not exist and to one the user may not read: the
    same status and words, so that trying codes tells nobody which residents have an
    archive (the audit entry tells the two apart)."""
    return NotFound(f"No archive {archive_id} that you may use. Check the number. An archive managed outside "
                    "your region is read through an access request (POST /api/v1/access-requests) to the "
                    "township health centre that manages it, or by a clinician in an emergency through "
                    "break-glass (POST /api/v1/archives/{id}/break-glass).")


def _may_read(user, doc):
    try:
        authorize(user, READ, doc, doc["_id"])
    except Forbidden:
        return False
    return True


def archive_for(user, archive_id, action, audit_as=None, dated=None):
    """The archive `archive_id` for `user` to `action` ("read", "write" or "review").

    Raises Invalid for a malformed code; NotFound (`unknown`) for an archive that does not
    exist or that the user may not read, a refusal audited as a denial under `audit_as`
    (default "archive.<action>"); Forbidden for another action on an archive the user may
    read; and Conflict for a write to a closed archive,
    unless what is written is `dated` (ISO day) on or before the closing: a paper form
    filled in before, entered late. The caller records the use itself with `access.audit(...)`.
    """
    audit_as = audit_as or f"archive.{action}"
    village = _village_of(archive_id)
    doc = get_db().archives.find_one({"_id": archive_id})
    if doc is None:
        record(user, audit_as, outcome="not_found", archive_id=archive_id, region=village)
        raise unknown(archive_id)
    try:
        access = authorized(user, action, doc, audit_as, archive_id)
    except Forbidden:
        # Whoever may read the archive knows it exists, and hears why else not.
        if action == READ or not _may_read(user, doc):
            raise unknown(archive_id) from None
        raise
    result = ArchiveAccess(user, doc, access.purpose, access.grant, access.until)
    if action == WRITE and doc["status"] == "closed" and not (dated and dated <= doc["closed"]["date"]):
        result.audit(audit_as, outcome="conflict")
        closed = doc["closed"]
        raise Conflict(f"Archive {archive_id} was closed on {closed['date']} ({closed['reason']}); "
                       "a closed archive is kept as it is. Paper forms dated on or before that day can "
                       "still be entered.")
    return result


# --- Reading -------------------------------------------------------------------------

def _unseal(doc):
    """The plaintext of an archive's fields, as the rules and the API see them."""
    ring = keyring()
    plain = {name: ring.unseal(doc[name], doc["_id"], name) for name in rules.SEALED if name in doc}
    plain.update({name: doc[name] for name in rules.PLAIN if doc.get(name) is not None})
    for name in rules.DATES:
        if name in plain:
            plain[name] = date.fromisoformat(plain[name])
    return plain


def _stored_plain(plain, names=rules.PLAIN):
    """The plain fields among `names` as stored: dates as ISO strings."""
    return {name: plain[name].isoformat() if name in rules.DATES else plain[name]
            for name in names if plain.get(name) is not None}


def _completeness(plain, village):
    # The form asks about living conditions in rural villages: the kind the region holds.
    return rules.completeness(plain, today(), rural=regions.get_region(village).get("kind") == "rural")


# The sealed fields of an archive's sub-documents: notes, and a death's cause and a
# move's destination, which say something about the person.
SEALED_PARTS = {"review": ("note",), "closed": ("note", "cause", "destination")}


def _note(doc, part):
    """A sub-document (review, closed) with its sealed fields unsealed."""
    value = doc.get(part)
    if not value:
        return None
    value = dict(value)
    for name in SEALED_PARTS[part]:
        if value.get(name):
            value[name] = keyring().unseal(value[name], doc["_id"], f"{part}.{name}")
    return value


def present(doc, plain=None):
    """The archive as the API answers it."""
    plain = plain if plain is not None else _unseal(doc)
    derived = rules.derived_populations(plain["birth_date"], today(), current_app.config["CHILD_MAX_AGE"])
    return {
        **{name: plain.get(name) for name in rules.EDITABLE},
        "id": doc["_id"], "village_code": doc["village"], **{name: doc[name] for name in CUSTODY},
        "status": doc["status"],
        "established_on": date.fromisoformat(doc["established_on"]) if doc.get("established_on") else None,
        "key_populations": sorted(set(plain.get("key_populations", [])) | set(derived)),
        "completeness": doc["completeness"], "review": _note(doc, "review"),
        "closed": _note(doc, "closed"), "version": doc["version"],
        "created_at": doc["created_at"], "created_by": doc["created_by"],
        "updated_at": doc["updated_at"], "updated_by": doc["updated_by"],
    }


def summary(doc):
    born = date.fromisoformat(doc["birth_date"])
    derived = rules.derived_populations(born, today(), current_app.config["CHILD_MAX_AGE"])
    ring = keyring()
    return {
        "id": doc["_id"], "village_code": doc["village"], **{name: doc[name] for name in CUSTODY},
        "status": doc["status"], "name": ring.unseal(doc["name"], doc["_id"], "name"), "sex": doc["sex"],
        "birth_date": born,
        "key_populations": sorted(set(doctor_flags(doc)) | set(derived)),
        "responsible_doctor": doc.get("responsible_doctor"), "completeness": doc["completeness"],
        "review": {k: v for k, v in doc["review"].items() if k != "note"} if doc.get("review") else None,
        "version": doc["version"],
    }


def doctor_flags(doc):
    """The key-population flags the doctor set on the stored archive `doc`."""
    return keyring().unseal(doc["key_populations"], doc["_id"], "key_populations") if "key_populations" in doc else []


def readable_summary(user, doc):
    """The list row of `doc`, or, when one of its sealed values does not open, a row that
    says so: one damaged archive must not take the whole list down with it."""
    try:
        return summary(doc)
    except DamagedValue as error:
        damaged(user, error, doc)
        return {"id": doc["_id"], "village_code": doc["village"], **{name: doc[name] for name in CUSTODY},
                "status": doc["status"], "unreadable": True}


def damaged(user, error, doc):
    """Log and audit a sealed value of archive `doc` that does not open: the operator
    restores it from a backup. Neither names a value."""
    current_app.logger.error("Damaged sealed value: %s", error)
    record(user, "seal.damaged", outcome="error", archive_id=doc["_id"], region=doc["village"],
           township=doc["township"], detail={"field": error.field, "key": error.key_id})


def get_archive(user, archive_id):
    return read_archive(user, archive_id)[0]


def read_archive(user, archive_id):
    """The archive, and what its read was allowed under: {purpose, grant, until}, the grant
    and its end None within the user's own scope (a page says so)."""
    access = archive_for(user, archive_id, READ, "archive.read")
    access.audit("archive.read")
    return present(access.archive), {"purpose": access.purpose, "grant": access.grant, "until": access.until}


def print_archive(user, archive_id, form):
    """The archive for printing `form` (the cover, the basic information form): allowed as
    a read, and audited as a print of that form."""
    access = archive_for(user, archive_id, READ, "archive.print")
    access.audit("archive.print", detail={"form": form})
    return present(access.archive)


def search_archives(user, village=None, name=None, id_card=None, status=None, review=None, key_population=None,
                    page=1, per_page=None, newest_first=False):
    """One page of the archives within the user's scope that match every filter given, by
    code (newest first: the most recently numbered first)."""
    region = village or user.region
    access = authorized(user, READ, region_custody(region), "archive.search")
    query = custody_query(region)
    if name:
        query["name_bi"] = name_index(name)
    if id_card:
        try:
            query["id_card_bi"] = card_index(parse_id_card(id_card).number)
        except IdCardError as error:
            raise Invalid(f"id_card: {error}", {"id_card": [str(error)]}) from None
    if status:
        query["status"] = status
    if review:
        query["review.verdict"] = {"$exists": False} if review == "none" else review
    if key_population:
        query["_id"] = {"$in": _of_population(query, key_population)}
    result = page_of(get_db().archives, query, [("_id", -1 if newest_first else 1)], page, per_page,
                     lambda doc: readable_summary(user, doc), dict.fromkeys(SUMMARY, 1))
    filters = [k for k, v in (("village", village), ("name", name), ("id_card", id_card),
                              ("status", status), ("review", review), ("key_population", key_population)) if v]
    # One entry per search; the ids shown are listed so a resident's name seen in a list
    # can be traced, without an entry per row.
    record(user, "archive.search", region=region, purpose=access.purpose, grant=access.grant,
           detail={"filters": filters, "total": result["total"], "shown": [item["id"] for item in result["items"]]})
    return result


def _of_population(query, population):
    """Ids of the archives matching `query` that belong to `population`: the server cannot
    match a sealed flag, so the candidates' birth dates and flag tokens are read and
    matched here, and the page is then asked for by id."""
    child_max_age = current_app.config["CHILD_MAX_AGE"]
    found = []
    for doc in get_db().archives.find(query, {"birth_date": 1, "key_population_bi": 1}):
        derived = rules.derived_populations(date.fromisoformat(doc["birth_date"]), today(), child_max_age)
        if population in derived or has_population(doc, population):
            found.append(doc["_id"])
    return found


# --- Checks before a write -----------------------------------------------------------

def _invalid(what, errors):
    return Invalid(f"{what}: " + "; ".join(
        f"{field}: {messages[0]}" for field, messages in sorted(errors.items())), errors)


def village_custody(village):
    """The custody fields a new archive of `village` gets; Invalid, keyed `village_code`,
    for a village that is unknown, retired or not yet valid."""
    regions.current(village, "village_code")
    return regions.custody_of(village)


def _doctor_problem(user, username, village):
    """Why `username` cannot be the responsible doctor for `village`, or None."""
    if username == user.username and user.role in (roles.VILLAGE_DOCTOR, roles.TOWNSHIP_STAFF):
        return None  # the acting user, already checked for this village
    doc = get_db().users.find_one({"_id": username}, {"role": 1, "region": 1, "disabled": 1})
    if doc is None or doc.get("disabled"):
        return f"There is no active user {username}."
    # Serving the village now: after a merger its code no longer names its township.
    serving = in_scope(doc["region"], region_custody(village))
    if doc["role"] not in (roles.VILLAGE_DOCTOR, roles.TOWNSHIP_STAFF) or not serving:
        return f"{username} is not a village doctor or township staff member serving village {village}."
    return None


def _check(user, plain, village, doctor_changed=True, established_on=None):
    """Normalise and check a whole archive; (ID card or None, warnings) or Invalid."""
    plain["name"] = plain["name"].strip()
    errors, warnings, card = rules.check(plain, today(), current_app.config["CHILD_MAX_AGE"])
    if not plain["name"]:
        errors["name"] = ["The name is empty."]
    if established_on and established_on > today():
        errors["established_on"] = ["The day the archive was established lies in the future."]
    elif established_on and established_on < plain["birth_date"]:
        errors["established_on"] = ["The day the archive was established is before the resident's birth date."]
    if plain.get("responsible_doctor") and doctor_changed:
        problem = _doctor_problem(user, plain["responsible_doctor"], village)
        if problem:
            errors["responsible_doctor"] = [problem]
    if errors:
        raise _invalid("The archive cannot be saved", errors)
    return card, warnings


def _sealed(archive_id, plain, names):
    ring = keyring()
    return {name: ring.seal(plain[name], archive_id, name) for name in names if plain.get(name) is not None}


def _lock_identity(user, bi, village, audit_as):
    """Lock the ID card for an archive of `village`, or refuse a second archive."""
    holder = locks.lock_identity(bi, village)
    if holder is None:
        return
    record(user, audit_as, outcome="conflict", region=village, detail={"existing_id": holder["_id"]})
    try:
        authorize(user, READ, holder, holder["_id"])
    except Forbidden:
        raise Conflict("This person already has an archive, registered outside your region. "
                       "Ask its township health centre to transfer it, or file an access request "
                       "to read it.") from None
    raise Conflict(f"This ID card already has archive {holder['_id']}; open that one instead.",
                   existing_id=holder["_id"])


def check_new(user, data, established_on=None):
    """A new archive (the fields of ArchiveCreate) normalised and checked as creation checks
    it, writing nothing: (plaintext, ID card or None, warnings). Raises Invalid."""
    village = data["village_code"]
    village_custody(village)
    plain = {name: data[name] for name in rules.EDITABLE if data.get(name) is not None}
    if "responsible_doctor" not in plain and user.role == roles.VILLAGE_DOCTOR:
        plain["responsible_doctor"] = user.username
    card, warnings = _check(user, plain, village, established_on=established_on)
    return plain, card, warnings


def new_document(user, code, place, plain, bi, at, established_on=None):
    """The stored document of a new archive `code` in custody `place` (the custody fields
    of its village), its fields sealed."""
    return {
        "_id": code, **place, "status": "open", "version": 1, **_stored_plain(plain),
        "established_on": (established_on or today()).isoformat(),
        "completeness": _completeness(plain, place["village"]),
        "name_bi": name_index(plain["name"]), "id_card_bi": bi,
        "key_population_bi": population_tokens(code, plain["key_populations"]),
        "created_at": at, "created_by": user.username, "updated_at": at, "updated_by": user.username,
        **_sealed(code, plain, rules.SEALED),
    }


def create_archive(user, data, *, code=None, established_on=None, idempotency_key=None):
    """Create an archive from the fields of ArchiveCreate; (archive, warnings, created).

    It is numbered with the next serial of its village, unless it is a paper archive
    brought in (`flask archives import`): then it keeps its number `code` and the day
    `established_on` it was made, and the step is an import rather than a creation.
    A repeat with the same `idempotency_key` answers the archive the first one made
    (created False) and writes nothing.
    """
    village = data["village_code"]
    action = IMPORT if code else CREATE
    audit_as = f"archive.{action}"
    place = village_custody(village)
    access = authorized(user, action, place, audit_as)
    regions.check_settled(village)
    layout = site_layout()
    if code and layout.village_of(code) != village:
        raise Invalid(f"Archive number {code} is not of village {village}.",
                      {"village_code": [f"Give {layout.village_of(code)}."]})
    plain, card, warnings = check_new(user, data, established_on)
    claim = idempotency.claim(user, idempotency_key, audit_as, data, collection="archives")
    if claim and claim.repeat:
        # The archive the first use made, found by the key's `ref` or the mark it carries.
        return present(idempotency.made_before(claim, "archives")), warnings, False
    bi = card_index(card.number) if card else None
    if bi:
        try:
            _lock_identity(user, bi, village, audit_as)
        except Conflict:
            idempotency.release(claim)
            raise
    at = now()

    def build(number):
        mark = pending.intent(user, audit_as, intent_id=claim and claim.id, archive_id=number, region=village,
                              township=place["township"], purpose=access.purpose, grant=access.grant,
                              detail={"version": 1})
        return {**new_document(user, number, place, plain, bi, at, established_on), pending.MARK: mark}

    try:
        doc = locks.insert_at(layout, code, build) if code else locks.insert_numbered(layout, village, build)
    except Exception as error:
        if bi:
            locks.release_identity(bi, village)
        if isinstance(error, DomainError):
            # Refused (no serial left, a number taken): nothing was written under the key.
            # A database that failed instead may have taken the insert, and keeps the claim.
            idempotency.release(claim)
        raise
    idempotency.made(claim, doc["_id"])
    pending.settle("archives", [doc["_id"]], doc.pop(pending.MARK), first=True)
    if data.get("enrolment_consent"):
        # Whoever may create an archive in the village may record its enrolment consent.
        consents.append_enrolment(user, doc["_id"], village, **data["enrolment_consent"])
    return present(doc, plain), warnings, True


def update_archive(user, archive_id, changes, expected_version):
    """Apply the fields of ArchiveChange (None clears one); (archive, warnings)."""
    access = archive_for(user, archive_id, WRITE, "archive.update")
    if expected_version is None:
        raise PreconditionRequired("Send If-Match with the ETag of your last GET of this archive, "
                                   "so that nobody else's change made meanwhile is overwritten.")
    doc = access.archive
    if expected_version != doc["version"]:
        raise locks.stale(archive_id)
    current = _unseal(doc)
    plain = {k: v for k, v in {**current, **changes}.items() if v is not None}
    doctor = changes.get("responsible_doctor", current.get("responsible_doctor"))
    card, warnings = _check(user, plain, doc["village"], doctor != current.get("responsible_doctor"))
    changed = [name for name in rules.EDITABLE if plain.get(name) != current.get(name)]
    if not changed:
        access.audit("archive.update", detail={"fields": []})
        return present(doc, current), warnings
    new = _stored_plain(plain, [name for name in changed if name in rules.PLAIN])
    new.update(_sealed(archive_id, plain, [name for name in changed if name in rules.SEALED]))
    unset = [name for name in changed if name not in plain]
    if "name" in changed:
        new["name_bi"] = name_index(plain["name"])
    if "key_populations" in changed:
        new["key_population_bi"] = population_tokens(archive_id, plain.get("key_populations", []))
    old_bi, new_bi = doc.get("id_card_bi"), card_index(card.number) if card else None
    if "id_card" in changed:
        new["id_card_bi"] = new_bi
        if new_bi:
            _lock_identity(user, new_bi, doc["village"], "archive.update")
    new["completeness"] = _completeness(plain, doc["village"])
    audit = access.intent("archive.update", detail={"fields": changed, "version": doc["version"] + 1})
    try:
        stored = locks.commit(doc, user.username, expected_version, new, changed, unset, audit)
    except Exception:
        if "id_card" in changed and new_bi:
            locks.release_identity(new_bi, doc["village"])
        raise
    if "id_card" in changed and old_bi:
        locks.release_identity(old_bi, doc["village"])
    return present(stored, plain), warnings


def close_archive(user, archive_id, reason, closed_on, note=None, duplicate_of=None, expected_version=None, *,
                  cause=None, destination=None):
    """Close for a reason (death with its `cause`, moved_away with its `destination`,
    lost_to_follow_up, duplicate of the archive kept, other); the archive stays readable."""
    access = archive_for(user, archive_id, WRITE, "archive.close")
    doc = access.archive
    errors = {}
    if closed_on > today():
        errors["date"] = ["The closing date lies in the future."]
    elif closed_on < date.fromisoformat(doc["birth_date"]):
        errors["date"] = ["The closing date is before the resident's birth date."]
    if duplicate_of:
        kept = get_db().archives.find_one({"_id": duplicate_of}, {"status": 1})
        if duplicate_of == archive_id or kept is None or kept["status"] != "open":
            errors["duplicate_of"] = [f"{duplicate_of} is not another open archive; name the archive kept."]
    if errors:
        raise _invalid("The archive cannot be closed", errors)
    closed = {"reason": reason, "date": closed_on.isoformat(), "by": user.username, "at": now(),
              "duplicate_of": duplicate_of}
    for name, value in (("note", note), ("cause", cause), ("destination", destination)):
        if value:
            closed[name] = keyring().seal(value, archive_id, f"closed.{name}")
    audit = access.intent("archive.close", detail={"reason": reason, "version": doc["version"] + 1})
    stored = locks.commit(doc, user.username, expected_version, {"status": "closed", "closed": closed}, ["status"],
                          audit=audit)
    if reason in rules.RELEASING_REASONS and doc.get("id_card_bi"):
        locks.release_identity(doc["id_card_bi"], doc["village"])
    return present(stored)


def review_archive(user, archive_id, verdict, note=None, expected_version=None):
    """Township staff's verdict (qualified or needs_correction) on an archive's content."""
    access = archive_for(user, archive_id, REVIEW, "archive.review")
    doc = access.archive
    missing = doc["completeness"]["missing"]
    if verdict == "qualified" and missing:
        message = (f"The archive lacks {', '.join(missing)}, so it cannot be qualified; "
                   "use needs_correction and tell the village doctor what to add.")
        raise Invalid(message, {"verdict": [message]})
    review = {"verdict": verdict, "by": user.username, "at": now(),
              # The version that carries this review: a higher one means changes since.
              "version": doc["version"] + 1}
    if note:
        review["note"] = keyring().seal(note, archive_id, "review.note")
    audit = access.intent("archive.review", detail={"verdict": verdict, "version": doc["version"] + 1})
    stored = locks.commit(doc, user.username, expected_version, {"review": review}, ["review"], audit=audit)
    return present(stored)
