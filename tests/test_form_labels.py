"""The labels the web pages render the forms with: every field of the archive's basic
information form and of every record form has one, every coded field labels each code,
Chinese by default and English on request, from the catalogue beside the schemas."""

from flask_babel import LazyString
from marshmallow import fields, validate

from schemas.archives import ArchiveCreate
from schemas.records.followups import POPULATIONS
from schemas.records.registry import KINDS, schema_for


def forms():
    """(name, schema) of every form a page renders."""
    yield "archive", ArchiveCreate()
    for kind in KINDS:
        if kind == "followup":
            yield from ((f"followup.{population}", schema_for(kind, population)) for population in POPULATIONS)
        else:
            yield kind, schema_for(kind)


def form_fields(schema, path=""):
    """(dotted path, field) of every field of `schema`, nested parts included. The
    enrolment consent is the access-request consent form's, labelled with it."""
    for name, field in schema.fields.items():
        yield f"{path}{name}", field
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested) and name != "enrolment_consent":
            yield from form_fields(inner.schema, f"{path}{name}.")


def every_field():
    return [(f"{form}:{path}", field) for form, schema in forms() for path, field in form_fields(schema)]


def choices(field):
    field = field.inner if isinstance(field, fields.List) else field
    return next((list(check.choices) for check in field.validators if isinstance(check, validate.OneOf)), None)


def test_no_form_field_lacks_a_label():
    assert len(every_field()) > 800
    assert [path for path, field in every_field() if not isinstance(field.metadata.get("label"), LazyString)] == []


def test_every_coded_field_labels_each_of_its_codes():
    coded = [(path, field) for path, field in every_field() if choices(field) is not None]
    assert len(coded) > 200
    assert [path for path, field in coded if list(field.metadata.get("labels", {})) != choices(field)] == []
    assert [f"{path}={code}" for path, field in coded for code, label in field.metadata["labels"].items()
            if not isinstance(label, LazyString)] == []


def rendered(app, language):
    """Every field's label and every code's label, as text in `language`."""
    with app.test_request_context("/", headers={"Cookie": f"lang={language}"}):
        return {path: (str(field.metadata["label"]),
                       {code: str(label) for code, label in field.metadata.get("labels", {}).items()})
                for path, field in every_field()}


def test_labels_are_chinese_by_default_and_english_on_request(app):
    zh, en = rendered(app, "zh"), rendered(app, "en")
    assert zh["archive:sex"] == ("性别", {"male": "男", "female": "女", "unknown": "未知的性别",
                                          "unspecified": "未说明的性别"})
    assert en["archive:sex"] == ("Sex", {"male": "Male", "female": "Female", "unknown": "Sex unknown",
                                         "unspecified": "Sex not stated"})
    assert zh["archive:ethnicity"][1]["hui"] == "回族" and en["archive:ethnicity"][1]["hui"] == "Hui"
    assert zh["archive:living_conditions.toilet"][0] == "厕所"
    assert zh["followup.hypertension:control"] == ("此次随访分类", {
        "satisfactory": "控制满意", "unsatisfactory": "控制不满意", "adverse_reaction": "药物不良反应",
        "complication": "并发症"})
    assert en["followup.hypertension:control"][1]["satisfactory"] == "Controlled"
    assert zh["checkup:general.blood_pressure_left.systolic"][0] == "收缩压"
    assert zh["followup.child:visit"][1]["month_1"] == "满月"
    assert zh["followup.tuberculosis:sputum"][0] == "痰菌情况"


def test_every_label_has_its_chinese(app):
    zh, en = rendered(app, "zh"), rendered(app, "en")
    untranslated = sorted({text for path in zh for text, english in
                           ((zh[path][0], en[path][0]), *((zh[path][1][code], label)
                                                          for code, label in en[path][1].items()))
                           if text == english and any("a" <= char.lower() <= "z" for char in text)})
    assert untranslated == []
