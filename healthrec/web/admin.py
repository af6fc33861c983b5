"""The administrator's pages: user accounts (create, disable, a new password shown once),
the import of regions and populations with its report of bad rows, and the encryption
keys' status. Administrators hold no clinical data: nothing here shows an archive."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from healthrec.auth import service as auth
from healthrec.errors import Conflict, Forbidden, Invalid
from healthrec.keys import service as keys
from healthrec.regions import service as regions
from healthrec.sheets import decode
from healthrec.web.messages import localise
from healthrec.web.pages import Form, message, page_number, refused, render
from schemas.auth import ROLE_LABELS, UserIn

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def administrators_only():
    """Anyone but an administrator is refused (403, audited) before a page or form is shown."""
    auth.check_admin_pages(current_user)


@bp.get("/users")
@login_required
def users():
    return render("admin/users.html", listed=auth.users_within(current_user, page=page_number()),
                  roles=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    form = Form(UserIn(), values={"region": current_user.region})
    status = 200
    if request.method == "POST":
        data = form.load()
        if data is not None:
            password = auth.new_password()
            try:
                account = auth.create_user(data["username"], data["role"], data["region"], password,
                                           data.get("name"), actor=current_user)
            except Invalid as error:
                refused(error, form)
            except (Conflict, Forbidden) as error:
                flash(message(error), "error")
                status = error.status
            else:
                return password_page(account, password, created=True)
    return render("admin/user_new.html", status, form=form)


@bp.get("/users/<username>")
@login_required
def user(username):
    return render("admin/user.html", account=auth.account(current_user, username), roles=ROLE_LABELS)


@bp.post("/users/<username>/password")
@login_required
def reset_password(username):
    password = auth.new_password()
    auth.reset_password(username, password, actor=current_user)
    return password_page(auth.account(current_user, username), password, created=False)


def password_page(account, password, created):
    """The new password, in this answer only: never in a URL, a flashed message (kept in
    the session cookie) or a log. The page is not stored (Cache-Control: no-store)."""
    return render("admin/password.html", account=account, password=password, created=created)


@bp.post("/users/<username>/disable")
@login_required
def disable(username):
    auth.disable_user(username, actor=current_user)
    flash(_("%(user)s can no longer sign in; their sessions and tokens have ended.", user=username), "success")
    return redirect(url_for(".user", username=username))


@bp.route("/regions", methods=["GET", "POST"])
@login_required
def regions_import():
    """A CSV file of regions and populations, all or nothing, with every bad row named."""
    imported, bad_rows, status = None, [], 200
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose the CSV file to import."), "error")
            status = 422
        else:
            try:
                imported = regions.import_csv(decode(upload.read()), actor=current_user)
            except Invalid as error:
                bad_rows = [{"line": row["line"], "reason": localise(row["reason"])}
                            for row in error.extra.get("lines", [])]
                status = 422
    return render("admin/regions.html", status, imported=imported, bad_rows=bad_rows)


@bp.get("/keys")
@login_required
def key_status():
    return render("admin/keys.html", report=keys.status_for(current_user))
