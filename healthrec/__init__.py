"""healthrec: resident health records for county primary care."""

import logging
from datetime import timedelta
from pathlib import Path

import click
import swagger_ui_bundle
from apispec_oneofschema import MarshmallowPlugin
from flask import Flask, g, request, send_from_directory
from flask.cli import ScriptInfo
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from healthrec import bodies, crypto, db, errors, headers, openapi, settings, urls
from healthrec.extensions import Api, babel, csrf, login_manager, select_locale
from healthrec.ids import CodeLayout
from healthrec.keys.service import DatabaseUnavailable, check_at_start
from healthrec.regions.codes import normalized

SCHEMA_TRANSLATIONS = Path(__file__).resolve().parent.parent / "schemas" / "translations"


def create_app(config=None):
    """Build the app from the environment, with `config` overriding single settings."""
    values = settings.from_env()
    values.update(config or {})
    values = settings.finalise(values)

    app = Flask(__name__)
    app.json = bodies.StrictJSONProvider(app)
    app.config.update(values)
    app.config.update(
        SECRET_KEY=values["SECRET_KEY"],
        API_TITLE="healthrec",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        BABEL_DEFAULT_LOCALE="zh",
        # The pages' catalogue, and the form labels' beside the schemas.
        BABEL_TRANSLATION_DIRECTORIES=f"translations;{SCHEMA_TRANSLATIONS}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=values["ENV"] == "production",
        # The cookie's signature runs out with the longest session (healthrec.web.sessions).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=values["SESSION_MAX_HOURS"]),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.logger.setLevel(logging.INFO)

    if values["PROXY_HOPS"]:
        # Behind nginx the client address comes from X-Forwarded-For, for the audit log
        # and login throttling.
        hops = values["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    else:
        warn_of_untrusted_proxy(app)

    app.extensions["healthrec.db"] = db.database(values)
    app.extensions["healthrec.keys"] = crypto.KeyRing.from_settings(values)
    if loaded_by_flask_command():
        # An operator's command checks the keys when it first uses the database, so one
        # that needs none (`flask keys generate`) runs where no database answers.
        app.extensions["healthrec.unchecked"] = check_for_command
    else:
        check_at_start(app.extensions["healthrec.db"], app.extensions["healthrec.keys"])
    errors.register(app)
    headers.register(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    api = Api(app, spec_kwargs={
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        # Record bodies and answers depend on their kind: one schema per form, chosen by kind.
        "marshmallow_plugin": MarshmallowPlugin(),
        "extra_plugins": [openapi.Answers(CodeLayout(values["ARCHIVE_SERIAL_DIGITS"], values["VILLAGE_CODES"]))],
    })

    register_blueprints(app, api)

    @app.url_value_preprocessor
    def normalize_codes(endpoint, values):
        # Codes typed on a phone come in full-width digits; every later check accepts only
        # ASCII digits, so the one form the service keeps is made here, for every route.
        for name in ("archive_id", "code"):
            if values and name in values:
                values[name] = normalized(values[name])
    register_auth(app)
    register_cli(app)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename):
        # Served from the installed package: clinics may have no route to a CDN.
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return app


def warn_of_untrusted_proxy(app):
    """Say once when requests come through a proxy whose X-Forwarded-For is not trusted:
    every client behind it then shares the proxy's address, in the audit trail and in
    login throttling, where one client's wrong passwords make all of them wait."""
    warned = False

    @app.before_request
    def check_forwarded():
        nonlocal warned
        if not warned and "X-Forwarded-For" in request.headers:
            warned = True
            app.logger.warning("Requests carry X-Forwarded-For but HEALTHREC_PROXY_HOPS is 0: every client behind "
                               "the proxy counts as the proxy's address. Set HEALTHREC_PROXY_HOPS to the number of "
                               "proxies in front of the app.")


def loaded_by_flask_command():
    """Whether the `flask` command is loading the app to run one of the app's commands
    (`flask run` loads it to serve it, so it is checked at once)."""
    context = click.get_current_context(silent=True)
    return context is not None and context.find_object(ScriptInfo) is not None and context.info_name != "run"


def check_for_command(database, ring):
    """The start-up check of a command, refusing as app.py refuses a start."""
    try:
        check_at_start(database, ring)
    except (DatabaseUnavailable, crypto.KeyRingError) as error:
        raise click.ClickException(f"healthrec cannot start: {error}") from None


def register_blueprints(app, api):
    from healthrec.access.api import blp as access_api
    from healthrec.archives.api import blp as archives_api
    from healthrec.audit.api import blp as audit_api
    from healthrec.audit.views import bp as audit_web
    from healthrec.auth.api import blp as auth_api
    from healthrec.contracts.api import blp as contracts_api
    from healthrec.custody.api import blp as custody_api
    from healthrec.health import bp as health
    from healthrec.metrics.api import blp as metrics_api
    from healthrec.records.api import blp as records_api
    from healthrec.regions.api import blp as regions_api
    from healthrec.web.views import bp as web

    app.register_blueprint(health)
    app.register_blueprint(web)
    app.register_blueprint(audit_web)
    for blueprint in (auth_api, regions_api, access_api, archives_api, records_api, audit_api, contracts_api,
                      custody_api, metrics_api):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)


def register_auth(app):
    from healthrec.auth import api
    from healthrec.web import sessions

    @app.before_request
    def forget_cached_user():
        # flask-login keeps the user in `g`, and a request reuses an app context that is
        # already pushed (by a script or a test driving the app): each request must
        # authenticate itself, never inherit the previous request's user.
        g.pop("_login_user", None)

    app.before_request(bodies.check)
    app.before_request(urls.refuse_identifiers)
    app.before_request(api.require_user)

    @login_manager.user_loader
    def load_user(user_id):
        # The API is exempt from CSRF checks, so a session cookie must not authenticate it:
        # API calls carry a bearer token (see request_loader).
        if request.path.startswith("/api/"):
            return None
        return sessions.load(user_id)

    @login_manager.request_loader
    def load_user_from_token(request):
        return api.user_from_bearer(request)


def register_cli(app):
    from healthrec.cli import commands

    for command in commands:
        app.cli.add_command(command)
