"""Server-rendered pages: sign in and out, the start page, the language switch."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from healthrec.auth import service as auth
from healthrec.errors import TooManyRequests, Unauthorized
from healthrec.extensions import LANGUAGES
from healthrec.regions import service as regions
from healthrec.web.forms import LoginForm

bp = Blueprint("web", __name__, template_folder="templates")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.username.data, form.password.data, request.remote_addr)
        except Unauthorized:
            flash(_("Wrong username or password."), "error")
        except TooManyRequests:
            flash(_("Too many failed attempts; wait a while and try again."), "error")
        else:
            login_user(user)
            return redirect(url_for("web.home"))
    return render_template("login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("web.login"))


@bp.get("/")
@login_required
def home():
    region = regions.get_region(current_user.region) if len(current_user.region) >= 6 else None
    return render_template("home.html", region=region)


@bp.get("/lang/<code>")
def language(code):
    response = make_response(redirect(request.referrer or url_for("web.home")))
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
    return response
