"""POST /api/v1/auth/token and the bearer-token guard of every other API call."""

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.auth import service
from healthrec.errors import Unauthorized
from schemas.auth import PublicUser, TokenRequest, TokenResponse

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Log in for API clients")

# API endpoints reachable without a token.
PUBLIC = {"auth.token", "api-docs.openapi_json"}


def client_ip():
    # Behind a proxy, ProxyFix (HEALTHREC_PROXY_HOPS) has already set remote_addr.
    return request.remote_addr


def bearer(request):
    """The bearer token a request carries, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def user_from_bearer(request):
    """flask-login's request loader: the user an API call's bearer token names; None
    without a token, Unauthorized (saying why) for an unknown, revoked or expired one."""
    token = bearer(request) if request.path.startswith("/api/v1/") else None
    return service.user_for_token(token, client_ip()) if token else None


def require_user():
    """Runs before every API request: only the token endpoint and the OpenAPI document
    answer without one."""
    if not request.path.startswith("/api/v1/") or request.endpoint in PUBLIC:
        return
    if request.endpoint is None:
        return  # unknown route: let the 404 through
    if not current_user.is_authenticated:
        raise Unauthorized("Send 'Authorization: Bearer <token>'; get a token at /api/v1/auth/token.")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.alt_response(401, description="Wrong username or password")
@blp.alt_response(429, description="Too many failed attempts")
@blp.doc(security=[])
def token(body):
    """Exchange a username and password for a bearer token."""
    user = service.authenticate(body["username"], body["password"], client_ip())
    value, expires = service.issue_token(user)
    return {"token": value, "expires_at": expires, "user": user.public()}


@blp.route("/token", methods=["DELETE"])
@blp.response(204)
def revoke():
    """Revoke the token this request carries."""
    service.revoke_token(bearer(request))


@blp.route("/me")
@blp.response(200, PublicUser)
def me():
    """Who the token belongs to."""
    return current_user.public()
