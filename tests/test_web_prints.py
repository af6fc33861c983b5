"""Printed forms through the Flask test client, read back with poppler's pdftotext: an
archive's cover and basic information form, the disclosure report and an access request's
application and consent record; each print audited like a read, and refused like one."""

import re
from urllib.parse import unquote

import pytest

from tests import factories
from tests.factories import pdf_text, web_sign_in


@pytest.fixture
def archive(client, people):
    """An archive of the village with a guardian and a past history, its doctor signed in."""
    archive_id = factories.make_archive(client, people["doc"], 0, guardian={
        "name": "赵建国", "relation": "child", "phone": "13812345678"},
        past_history={"diseases": [{"code": "hypertension", "date": "2015-06"}]}, drug_allergies=["penicillin"])
    web_sign_in(client, "doc")
    return archive_id


def file_name(response):
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline;")
    return unquote(disposition.split("filename*=UTF-8''")[1])


def prints(db, archive_id):
    return [(entry["actor"], entry["detail"]["form"], entry["outcome"])
            for entry in db.audit.find({"action": "archive.print", "archive_id": archive_id}).sort("_id", 1)]


def test_the_cover_holds_the_name_and_code_and_is_audited(client, archive, db):
    response = client.get(f"/archives/{archive}/cover.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert file_name(response) == f"居民健康档案封面-{archive}.pdf"
    text = pdf_text(response.data)
    assert "居民健康档案" in text and "李秀英" in text and archive in text
    assert "柳河镇" in text and "柳河村" in text and "柳河村卫生室" in text
    assert prints(db, archive) == [("doc", "cover", "ok")]


def test_the_basic_information_form_ticks_the_answers(client, archive, db):
    response = client.get(f"/archives/{archive}/basic-info.pdf")
    assert file_name(response) == f"个人基本信息表-{archive}.pdf"
    text = pdf_text(response.data)
    assert "个人基本信息表" in text and "李秀英" in text and archive in text
    assert "居民健康档案" in text  # every page says whose archive it belongs in
    # A ticked box reads as √ before its answer; how far apart is pdftotext's guess.
    ticked = set(re.findall(r"√\s*([^\s√]+)", text))
    assert {"女", "青霉素", "新型农村合作医疗", "户籍", "已婚"} <= ticked and "男" not in ticked
    assert "高血压 确诊时间 2015-06" in text and "赵建国（子女）" in text
    assert prints(db, archive) == [("doc", "basic_info", "ok")]


def test_a_supervisor_prints_only_under_an_active_grant(client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    people["sup"]
    web_sign_in(client, "sup")
    # Out of reach answers as an archive that does not exist would; the trail knows better.
    assert client.get(f"/archives/{archive_id}/cover.pdf").status_code == 404
    assert [entry["outcome"] for entry in db.audit.find({"action": "archive.print"})] == ["denied"]
    granted = factories.granted(client, people, archive_id)
    response = client.get(f"/archives/{archive_id}/cover.pdf")
    assert response.status_code == 200 and archive_id in pdf_text(response.data)
    entry = db.audit.find_one({"action": "archive.print", "outcome": "ok"})
    assert entry["grant"] == granted["id"] and entry["purpose"] == "慢病管理质量抽查"


def test_an_administrator_prints_nothing(client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    people["admin"]
    web_sign_in(client, "admin")
    assert client.get(f"/archives/{archive_id}/basic-info.pdf").status_code == 404


def test_the_disclosure_report_lists_the_prints(client, archive, people):
    client.get(f"/archives/{archive}/cover.pdf")
    people["staff"]
    web_sign_in(client, "staff")
    response = client.get(f"/archives/{archive}/disclosures.pdf")
    assert file_name(response) == f"档案使用记录-{archive}.pdf"
    text = pdf_text(response.data)
    assert "打印了档案表单" in text and archive in text
    page = client.get(f"/archives/{archive}/disclosures").get_data(as_text=True)
    assert "打印了本报告" in page


def test_an_access_requests_record_prints_with_its_consent(client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    filed = factories.granted(client, people, archive_id)
    web_sign_in(client, "sup")
    response = client.get(f"/access-requests/{filed['id']}.pdf")
    assert response.status_code == 200
    assert file_name(response) == f"查阅申请-{archive_id}-{filed['id']}.pdf"
    text = pdf_text(response.data)
    assert "用于季度质量抽查" in re.sub(r"\s", "", text)  # the application, wrapped over lines
    assert "已授权" in text and "居民本人 · 签字 · doc 登记" in text
    assert "申请人签名" in text and "本人或监护人（签名或手印）" in text
    assert db.audit.count_documents({"action": "access.print", "grant": filed["id"], "actor": "sup"}) == 1
