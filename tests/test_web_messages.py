"""Every message the pages may show has its Chinese: the templates of web/messages are in
the catalogue, and what the schemas and the ID-card check answer for bad input comes out
in Chinese."""

import re

import pytest
from flask_babel import force_locale, gettext
from marshmallow import ValidationError

from healthrec.errors import dotted
from healthrec.ids import IdCardError, parse_id_card
from healthrec.web.messages import PATTERNS, WORDS, localise
from schemas.archives import ArchiveCreate, CloseRequest, ReviewRequest
from schemas.metrics import CoverageQuery, ResultIn, SampleIn
from schemas.records.registry import validate_record
from tests import factories

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def zh(app):
    with app.test_request_context(), force_locale("zh"):
        yield


def test_every_template_has_its_chinese(zh):
    untranslated = [template for _, template in PATTERNS if not CJK.search(gettext(template))]
    untranslated += [word for word in WORDS.values() if not CJK.search(gettext(word))]
    assert untranslated == []


@pytest.mark.parametrize("number", ["41142319580412", "41142319580412866X", "4114231958041286a6",
                                    "411423195813328669", "411423290004128668"])
def test_id_card_errors_come_out_in_chinese(zh, number):
    with pytest.raises(IdCardError) as raised:
        parse_id_card(number)
    assert CJK.search(localise(str(raised.value))), str(raised.value)


def messages(schema, body):
    try:
        schema.load(body)
    except ValidationError as error:
        return dotted(error.normalized_messages())
    return {}


BAD_ARCHIVE = {"village_code": "4114", "name": "", "sex": "x", "birth_date": "1958-13-01", "phone": "123",
               "guardian": {"relation": "uncle"}, "past_history": {"diseases": [{"name": "高血压", "date": "15"}]},
               "key_populations": ["nobody"], "enrolment_consent": {"decision": "refused", "given_by": "guardian",
                                                                     "method": "verbal_witnessed"}}


@pytest.mark.parametrize("schema,body", [
    (ArchiveCreate(), BAD_ARCHIVE), (ArchiveCreate(), {}),
    (CloseRequest(), {"reason": "other", "date": "2026-01-01"}),
    (CloseRequest(), {"reason": "duplicate", "date": "2026-01-01"}),
    (ReviewRequest(), {"verdict": "needs_correction"}),
    (CoverageQuery(), {"region": "4114231", "as_of": "2026-13-01", "period": "2026-06-30/2026-01-01"}),
    (SampleIn(), {"region": "41", "size": 0, "checkers": [""], "due": "soon"}), (SampleIn(), {}),
    (ResultIn(), {"archive_id": "1", "qualified": False, "authentic": "maybe", "method": "fax"}),
    (ResultIn(), {"archive_id": factories.code(1), "qualified": True, "missing": ["电话"], "authentic": True,
                  "method": "phone"}),
])
def test_schema_messages_come_out_in_chinese(zh, schema, body):
    found = messages(schema, body)
    assert found
    assert {path: text for path, texts in found.items() for text in texts if not CJK.search(localise(text))} == {}


@pytest.mark.parametrize("kind,population", list(factories.FORMS))
def test_record_messages_come_out_in_chinese(zh, kind, population):
    """Every measured field far out of range, every required one left out."""
    body = {"kind": kind, **({"population": population} if population else {}), "date": "1800-01-01"}
    for name, value in factories.FORMS[kind, population].items():
        body[name] = 100000 if isinstance(value, int | float) else value
    found = {}
    for attempt in (body, {key: body[key] for key in ("kind", "population") if key in body}):
        try:
            validate_record(attempt)
        except ValidationError as error:
            found.update(error.normalized_messages())
    assert found
    assert {path: text for path, texts in found.items() for text in texts if not CJK.search(localise(text))} == {}
