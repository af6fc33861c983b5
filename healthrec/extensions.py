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
    return request.cookies.get("lang") or request.accept_languages.best_match(["zh", "en"]) or "zh"


babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "web.login"
