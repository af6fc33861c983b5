"""The printable disclosure report a township health centre hands to a resident."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from healthrec.access.grants import BREAK_GLASS_PURPOSE
from healthrec.audit import service
from healthrec.clock import local, today
from healthrec.custody.transfers import PURPOSE as TRANSFER_PURPOSE
from healthrec.errors import Invalid
from healthrec.regions import service as regions
from schemas.audit import ArchivePath

bp = Blueprint("audit_pages", __name__, template_folder="templates")

# What each audited action means to a resident; others show their code.
ACTIONS = {
    "archive.create": _l("Created the archive"),
    "archive.read": _l("Viewed the archive"),
    "archive.update": _l("Changed the archive"),
    "archive.close": _l("Closed the archive"),
    "archive.review": _l("Checked the archive"),
    "record.create": _l("Added a service record"),
    "record.amend": _l("Corrected a service record"),
    "record.list": _l("Viewed the service records"),
    "record.read": _l("Viewed a service record"),
    "referral.receive": _l("Received a referral"),
    "consent.read": _l("Viewed the consent log"),
    "consent.enrolment_granted": _l("Recorded consent to keep the archive"),
    "consent.enrolment_refused": _l("Recorded refusal to keep the archive"),
    "access.request": _l("Applied for access"),
    "access.approve": _l("Approved an application for access"),
    "access.reject": _l("Rejected an application for access"),
    "access.consent_granted": _l("Recorded consent to access"),
    "access.consent_refused": _l("Recorded refusal of access"),
    "access.revoke": _l("Ended an access"),
    "break_glass.open": _l("Opened in an emergency"),
    "break_glass.acknowledge": _l("Reviewed an emergency opening"),
    "audit.disclosures": _l("Asked for this report"),
    "audit.list": _l("Viewed who used the archive"),
    "archive.search": _l("Saw the name in search results"),
    "followups.due": _l("Saw the name on the list of follow-ups due"),
    "followups.urgent": _l("Saw the name on the list of danger values to refer"),
    "referral.incoming": _l("Saw a referral in the list to receive"),
    "transfer.list": _l("Saw the archive in the list of transfers"),
    "contract.due": _l("Saw the name on the list of contracts to renew"),
    "contract.to_sign": _l("Saw the name on the list of residents to sign"),
    "access.view": _l("Read an application for access"),
    "access.list": _l("Saw an application for access in a list"),
    "break_glass.list": _l("Read the reasons of emergency openings"),
    "sample.create": _l("Drew the archive for a verification sample"),
    "sample.read": _l("Viewed a verification sample with the archive"),
    "sample.list": _l("Saw the archive in a list of verification samples"),
    "transfer.request": _l("Asked to take the archive over"),
    "transfer.confirm": _l("Handed the archive over to another village"),
    "transfer.refuse": _l("Refused to hand the archive over"),
    "transfer.read": _l("Viewed a transfer of the archive"),
    "custody.move": _l("Passed to another township health centre"),
    "archive.print": _l("Printed the archive's forms"),
    "audit.disclosures_print": _l("Printed this report"),
    "access.print": _l("Printed an application for access"),
}

# Purposes the system itself records; an application's purpose is shown as written.
PURPOSES = {
    "jurisdiction": _l("Care by the staff responsible for the area"),
    BREAK_GLASS_PURPOSE: _l("Emergency"),
    TRANSFER_PURPOSE: _l("The resident moved"),
}


def region_name(code):
    return regions.get_region(code)["name"]


def report(archive_id, to_print=False):
    """What the disclosure report shows (the page, and its PDF when `to_print`)."""
    errors = ArchivePath().validate({"archive_id": archive_id})
    if errors:
        raise Invalid(errors["archive_id"][0], errors)
    found = service.disclosures(current_user, archive_id, printed=to_print)
    rows = [{**item, "at": local(item["at"]), "what": ACTIONS.get(item["action"], item["action"]),
             "why": PURPOSES.get(item["purpose"], item["purpose"])} for item in found["items"]]
    return {"archive_id": archive_id, "rows": rows, "township": region_name(found["township"]),
            "village": region_name(found["village"]), "printed": today().isoformat()}


@bp.get("/archives/<archive_id>/disclosures")
@login_required
def disclosures(archive_id):
    return render_template("audit/disclosures.html", **report(archive_id))
