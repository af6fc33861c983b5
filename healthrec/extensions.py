"""Flask extensions, created unbound and attached in create_app."""

from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_smorest import Api as SmorestApi
from flask_wtf import CSRFProtect

from healthrec import errors


class Api(SmorestApi):
    """flask-smorest with our problem+json error bodies."""

    def handle_http_exception(self, error):
        return errors.from_http_exception(error)


LANGUAGES = ("zh", "en")


def select_locale():
    # Chinese whatever the browser says: the staff's machines are often set up in English.
    # The cookie is whatever the client sends, and an unknown language would break every page.
    chosen = request.cookies.get("lang")
    return chosen if chosen in LANGUAGES else "zh"


babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "web.login"
