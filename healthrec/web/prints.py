"""Printed forms, as PDF: an archive's cover (居民健康档案封面) and personal basic
information form (个人基本信息表) laid out like the national forms, the resident's
disclosure report, and an access request's application and consent record. Each print
is allowed as a read of what it shows and audited as a print by the service."""

from flask import Blueprint
from flask_login import current_user, login_required

from healthrec.access import requests
from healthrec.archives import service as archives
from healthrec.audit import views as audit_pages
from healthrec.auth import service as auth
from healthrec.clock import today
from healthrec.web.pages import region_name
from healthrec.web.pdf import pdf
from healthrec.web.schema_form import widgets
from healthrec.web.township import consent_record
from schemas.archives import ArchiveChange

bp = Blueprint("prints", __name__)

# Coded fields with more choices than this print the chosen one in words (ethnic groups),
# the others every choice with a box, as the national form does.
BOXED = 16


def code_groups(code):
    """An archive code as the form's boxes group it: county, township, village, serial."""
    return [code[:6], code[6:9], code[9:12], code[12:]]


def archive_print(archive_id, form):
    archive = archives.print_archive(current_user, archive_id, form)
    people = auth.names([archive["created_by"], archive.get("responsible_doctor")])
    return {"archive": archive, "groups": code_groups(archive["id"]), "people": people,
            "township": region_name(archive["township"]), "village": region_name(archive["village"]),
            "printed": today(), "boxed": BOXED}


def flattened(ws, found=None):
    """{dotted name: widget} of the form's fields and their parts."""
    found = {} if found is None else found
    for w in ws:
        found[w.name] = w
        flattened(w.children, found)
    return found


@bp.get("/archives/<archive_id>/cover.pdf")
@login_required
def cover(archive_id):
    context = archive_print(archive_id, "cover")
    return pdf("prints/cover.html", f"居民健康档案封面-{archive_id}.pdf", f"cover-{archive_id}.pdf", **context)


@bp.get("/archives/<archive_id>/basic-info.pdf")
@login_required
def basic_info(archive_id):
    context = archive_print(archive_id, "basic_info")
    fields = flattened(widgets(ArchiveChange(), context["archive"]))
    return pdf("prints/basic_info.html", f"个人基本信息表-{archive_id}.pdf", f"basic-info-{archive_id}.pdf",
               fields=fields, **context)


@bp.get("/archives/<archive_id>/disclosures.pdf")
@login_required
def disclosures(archive_id):
    return pdf("prints/disclosures.html", f"档案使用记录-{archive_id}.pdf", f"disclosures-{archive_id}.pdf",
               **audit_pages.report(archive_id, to_print=True))


@bp.get("/access-requests/<request_id>.pdf")
@login_required
def access_request(request_id):
    item = requests.print_request(current_user, request_id)
    name = f"{item['archive_id']}-{request_id}.pdf"
    return pdf("prints/access_request.html", f"查阅申请-{name}", f"access-request-{name}", item=item,
               log=consent_record(item), printed=today())
