"""POST /api/v1/auth/token and the bearer-token guard of every other API call."""

from flask import g, request
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


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>'; get a token at /api/v1/auth/token.")
    return token.strip()


def require_token():
    """Runs before every API request: the bearer token decides who is calling."""
    if not request.path.startswith("/api/v1/") or request.endpoint in PUBLIC:
        return
    if request.endpoint is None:
        return  # unknown route: let the 404 through
    user = service.user_for_token(bearer_token(), client_ip())
    # flask-login's current_user reads this, so views and services see one user object.
    g._login_user = user


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.alt_response(401, description="Wrong username or password")
@blp.alt_response(429, description="Too many failed attempts")
def token(body):
    """Exchange a username and password for a bearer token."""
    user = service.authenticate(body["username"], body["password"], client_ip())
    value, expires = service.issue_token(user)
    return {"token": value, "expires_at": expires, "user": user.public()}


@blp.route("/token", methods=["DELETE"])
@blp.response(204)
def revoke():
    """Revoke the token this request carries."""
    service.revoke_token(bearer_token())


@blp.route("/me")
@blp.response(200, PublicUser)
def me():
    """Who the token belongs to."""
    return current_user.public()
