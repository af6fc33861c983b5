"""Web sessions: they begin at sign-in, and end at sign-out (on every device), after
`SESSION_IDLE_MINUTES` without a request or `SESSION_MAX_HOURS` after sign-in, whatever
the browser keeps: the signed cookie holds when it began and was last used, and the user's
session version, which signing out, a new password or a disabled account moves on."""

from flask import current_app, g, request, session
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from healthrec.auth import service as auth
from healthrec.clock import now


def _seconds():
    return int(now().timestamp())


def begin(user):
    # A fresh cookie: nothing of the one used before signing in carries over.
    session.clear()
    login_user(user)
    session["started"] = session["seen"] = _seconds()


def load(user_id):
    """flask-login's loader for pages: the user while the session lasts, else None (and
    why, in `g.session_ended`, for the sign-in page)."""
    at, config = _seconds(), current_app.config
    started, seen = session.get("started", 0), session.get("seen", 0)
    if at - seen > config["SESSION_IDLE_MINUTES"] * 60:
        return _ended(_("You were signed out after %(minutes)d minutes without use; sign in again.",
                        minutes=config["SESSION_IDLE_MINUTES"]))
    if at - started > config["SESSION_MAX_HOURS"] * 3600:
        return _ended(_("You were signed out %(hours)d hours after signing in; sign in again.",
                        hours=config["SESSION_MAX_HOURS"]))
    user = auth.load_user(user_id, request.remote_addr)
    if user is None:
        return _ended(None)
    session["seen"] = at
    return user


def _ended(reason):
    session.clear()
    g.session_ended = reason
    return None


def end(user):
    """Sign out here and on every other device."""
    auth.end_sessions(user)
    logout_user()
    session.clear()
