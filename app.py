"""WSGI entry point: `gunicorn app:app` (production) or `flask --app app run`."""

from healthrec import create_app

app = create_app()
