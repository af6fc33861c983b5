"""What a record kind's schema says about its fields, applied generically: which are
sealed, which are set by the service, which are computed; and how an amendment merges.

A record's form fields sit at the top level of its document, so a field's dotted path in
the schema is its path in the document: the path each sealed value is bound to, and the
one key rotation finds it under.
"""

from marshmallow import fields

from healthrec.audit.pending import MARK
from healthrec.crypto import is_sealed
from schemas.records.registry import schema_for

# The document's own fields; no form may declare a field of these names.
META = ("_id", "record_id", "version", "previous", "current", "archive_id", "village", "township", "county",
        "recorded_in",
        "late", "author", "created_at", "change", "to_township", MARK)


def schema_of(content):
    return schema_for(content["kind"], content.get("population"))


def walk(schema, data, visit, prefix=""):
    """`data` rebuilt with `visit(field, value, path)` applied to every field the schema
    declares (None drops the field), then descending into nested forms. A sealed field is
    one value: its insides are never visited."""
    out = {}
    for name, value in data.items():
        field = schema.fields.get(name)
        if field is None:
            out[name] = value
            continue
        path = f"{prefix}{name}"
        value = visit(field, value, path)
        if value is None:
            continue
        if not field.metadata.get("sealed"):
            if isinstance(field, fields.Nested):
                value = walk(field.schema, value, visit, path + ".")
            elif isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
                value = [walk(field.inner.schema, item, visit, f"{path}.{i}.") for i, item in enumerate(value)]
        out[name] = value
    return out


def seal(ring, doc):
    """The document with each sealed field encrypted, bound to the document id and path.
    A value already sealed is kept: a record stored before its form sealed a field gets
    only that field sealed (`flask keys reseal`)."""
    def visit(field, value, path):
        return ring.seal(value, doc["_id"], path) if field.metadata.get("sealed") and not is_sealed(value) else value
    return walk(schema_of(doc), doc, visit)


def unseal(ring, doc):
    def visit(field, value, path):
        return ring.unseal(value, doc["_id"], path) if field.metadata.get("sealed") else value
    return walk(schema_of(doc), doc, visit)


def editable(content):
    """The form as a client may send it: without computed and service-set fields."""
    return walk(schema_of(content), content, lambda field, value, path: None if field.dump_only else value)


def state(content):
    """The fields the service sets (a referral's receipt), which a new version keeps."""
    schema = schema_of(content)
    return {name: content[name] for name, field in schema.fields.items()
            if field.metadata.get("state") and name in content}


def merge(content, changes):
    """`changes` applied to `content`: objects merge field by field, null removes a
    field, anything else (lists included) replaces the old value."""
    out = dict(content)
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        elif isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = merge(out[name], value)
        else:
            out[name] = value
    return out
