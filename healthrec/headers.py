"""Security headers on every answer, set in one place.

Pages load scripts and styles only from this site (no inline ones, so an injected
`<script>` or `style=` does nothing), are never framed, and no answer but the static files
is kept by a browser or proxy: pages, API answers, the token and errors may carry personal
data or credentials.
"""

from flask import current_app, request

POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # the API browser's icons
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# Files that are the same for everyone.
STATIC = {"static", "web.static", "swagger_assets"}


def register(app):
    app.after_request(secure)


def secure(response):
    headers = response.headers
    headers["Content-Security-Policy"] = POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    # Within the site the pages use the referrer to go back after a form; never outside.
    headers["Referrer-Policy"] = "same-origin"
    if request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint not in STATIC:
        headers["Cache-Control"] = "no-store"
    return response
