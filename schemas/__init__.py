"""Marshmallow schemas, one module per domain, shared by the API and the web forms."""
