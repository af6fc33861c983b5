"""Flask extensions, created unbound and attached in create_app."""

from http import HTTPStatus

from flask import request
from flask_babel import Babel
from flask_login import LoginManager
from flask_smorest import Api as SmorestApi
from flask_wtf import CSRFProtect

from healthrec import errors
from schemas.problem import Problem


class Api(SmorestApi):
    """flask-smorest with our problem+json error bodies, in answers and in the document."""

    # Each operation lists the statuses it answers (healthrec.openapi), never a catch-all.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return errors.from_http_exception(error)

    def _register_responses(self):
        # The responses `@blp.arguments` (422) and friends refer to by status name.
        for status in HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["content"] = {errors.PROBLEM_JSON: {"schema": Problem}}
            self.spec.components.response(status.name, response, lazy=True)


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
