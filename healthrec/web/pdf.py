"""Printed forms: a template drawn as a PDF by WeasyPrint, in the Noto CJK fonts that
scripts/setup installs. Styles are inline and nothing is fetched while drawing: a
printed form never reaches out to another address or a file."""

import io
from urllib.parse import quote

from flask import render_template, send_file
from weasyprint import HTML


def fetch_nothing(url, *args, **kwargs):
    raise ValueError(f"a printed form fetches nothing ({url})")


def pdf(template, filename, fallback, **context):
    """The PDF of `template`, shown in the browser and saved under `filename` (or the
    ASCII `fallback`, for the odd client that takes no UTF-8 file names)."""
    document = HTML(string=render_template(template, **context), url_fetcher=fetch_nothing).write_pdf()
    response = send_file(io.BytesIO(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return response
