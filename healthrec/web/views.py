"""Server-rendered pages: sign in and out, the start page of each role, the archive
search, the language switch; the archive pages (`archives`) and the township health
centre's work (`township`) hang below this blueprint."""

from flask import Blueprint, current_app, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from healthrec.access import alerts, break_glass, requests
from healthrec.archives import service as archives
from healthrec.auth import roles
from healthrec.auth import service as auth
from healthrec.clock import local
from healthrec.errors import Invalid, TooManyRequests, Unauthorized
from healthrec.extensions import LANGUAGES, login_manager
from healthrec.records import urgent as urgent_cases
from healthrec.records import worklists
from healthrec.records.alerts import URGENT
from healthrec.web import admin, dashboard, prints, samples, sessions, township, transfers
from healthrec.web import archives as archive_pages
from healthrec.web.forms import LoginForm
from healthrec.web.messages import localise
from healthrec.web.pages import (
    Form,
    archive_label,
    consent_label,
    due_reason,
    page_context,
    page_number,
    region_name,
    render,
    safe_next,
)
from schemas.archives import ArchiveQuery
from schemas.paging import MAX_PAGE

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")
bp.register_blueprint(archive_pages.bp)
bp.register_blueprint(township.bp)
bp.register_blueprint(transfers.bp)
bp.register_blueprint(admin.bp)
bp.register_blueprint(prints.bp)
bp.register_blueprint(dashboard.bp)
bp.register_blueprint(samples.bp)
bp.app_context_processor(page_context)
for helper in (archive_label, consent_label, due_reason, local, localise, region_name):
    bp.add_app_template_global(helper)

# How many of each list the start page shows; the due list is paged.
RECENT = 5
DUE_PAGE = 20


@login_manager.unauthorized_handler
def sign_in_first():
    """To the sign-in page, and back to this page after it. A form sent after the session
    ended goes back to the page that showed the form."""
    back = request.full_path if request.method == "GET" else safe_next(request.referrer, url_for("web.home"))
    flash(g.get("session_ended") or _("Please sign in to continue."), "warning")
    return redirect(url_for("web.login", next=safe_next(back.rstrip("?"), url_for("web.home"))))


@bp.app_errorhandler(CSRFError)
def form_expired(error):
    """A form without its token (or one whose session ended): refused, nothing was saved."""
    back = safe_next(request.referrer, url_for("web.home"))
    if not current_user.is_authenticated:
        back = url_for("web.login", next=back)
    flash(_("The form had expired, so nothing was saved. Open it again, fill it in and send it."), "error")
    return render("message.html", 400, title=_("Nothing was saved"), back=back)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    target = safe_next(request.args.get("next"), url_for("web.home"))
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.username.data, form.password.data, request.remote_addr)
        except Unauthorized:
            flash(_("Wrong username or password."), "error")
        except TooManyRequests as error:
            status = 429
            flash(_("Too many wrong passwords: wait %(seconds)s seconds, then try again.",
                    seconds=error.headers["Retry-After"]), "error")
        else:
            sessions.begin(user)
            return redirect(target)
    return render("login.html", status, form=form)


@bp.post("/logout")
@login_required
def logout():
    sessions.end(current_user)
    return redirect(url_for("web.login"))


@bp.get("/")
@login_required
def home():
    if current_user.role == roles.VILLAGE_DOCTOR:
        return village_home()
    if current_user.role == roles.TOWNSHIP_STAFF:
        return township_home()
    if current_user.role == roles.SUPERVISOR:
        return supervisor_home()
    return render("home.html")


def village_home():
    village = current_user.region
    listed = worklists.followups_due(current_user, village)["items"]
    # The urgent come first in the due list; they have a section of their own.
    urgent = [item for item in listed if item["reason"] == URGENT]
    due = [item for item in listed if item["reason"] != URGENT]
    page = page_number()
    return render(
        "village_home.html", urgent=urgent,
        recent=archives.search_archives(current_user, village=village, per_page=RECENT, newest_first=True),
        due={"items": due[(page - 1) * DUE_PAGE:page * DUE_PAGE], "total": len(due), "page": page,
             "per_page": DUE_PAGE},
        referrals=worklists.incoming_referrals(current_user, per_page=RECENT),
        search=search_form())


def township_home():
    return render(
        "township_home.html",
        unreviewed=archives.search_archives(current_user, review="none", per_page=RECENT),
        pending=requests.list_requests(current_user, status="pending", per_page=RECENT),
        openings=break_glass.list_openings(current_user, status="unreviewed", per_page=RECENT),
        referrals=worklists.incoming_referrals(current_user, per_page=RECENT),
        urgent=urgent_cases.urgent_list(current_user)["items"],
        alerts=alerts.list_alerts(current_user, per_page=RECENT),
        search=search_form())


def supervisor_home():
    return render("supervisor_home.html", alerts=alerts.list_alerts(current_user, per_page=RECENT),
                  active=requests.list_requests(current_user, status="active", per_page=RECENT),
                  recent=requests.list_requests(current_user, per_page=RECENT))


def search_form():
    return Form(ArchiveQuery(only=("name", "id_card")))


@bp.post("/archives/search")
@login_required
def search():
    """Names and ID cards come in the body, never in a URL (nor so in an access log)."""
    form = search_form()
    query = form.load()
    page = request.form.get("page", type=int) or 1
    result = None
    if query is not None:
        try:
            result = archives.search_archives(current_user, page=min(max(page, 1), MAX_PAGE), **query)
        except Invalid as error:
            form.refused(error.extra.get("errors", {}))
    return render("search.html", search=form, result=result)


@bp.get("/lang/<code>")
def language(code):
    response = make_response(redirect(safe_next(request.referrer, url_for("web.home"))))
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
