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


def select_locale():
    # Chinese whatever the browser asks for (shared clinic PCs often say English); English
    # only when the reader chose it (/lang/en).
    return "en" if request.cookies.get("lang") == "en" else "zh"


babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "web.login"
