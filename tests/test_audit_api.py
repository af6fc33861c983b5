"""Who sees which audit entries: township staff their township's, supervisors their own
actions and counts for their region, administrators all, village doctors none; and the
disclosure report of an archive for its township health centre to hand to the resident."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import (
    COUNTY,
    FAR,
    LAYOUT,
    PASSWORD,
    TOWNSHIP,
    URBAN_TOWNSHIP,
    VILLAGE,
    bearer,
    make_archive,
    web_sign_in,
)
from tests.querycheck import unsupported, watched


@pytest.fixture
def trail(client, runner, login):
    """A doctor files an archive; its township reads it; another township, a supervisor and
    a doctor of another county try to and are refused. Everything happened a moment ago."""
    created = runner.invoke(args=["users", "create", "li.doctor", "--role", "village_doctor", "--region", VILLAGE,
                                  "--name", "李医生", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    doctor = bearer(client, "li.doctor")
    archive_id = make_archive(client, doctor)
    people = {"doctor": doctor, "staff": login("township_staff", TOWNSHIP),
              "other_staff": login("township_staff", URBAN_TOWNSHIP), "supervisor": login("supervisor", COUNTY),
              "far": login("village_doctor", FAR, username="far.doctor"), "admin": login("admin", COUNTY)}
    assert client.get(f"/api/v1/archives/{archive_id}", headers=people["staff"]).status_code == 200
    for refused in ("other_staff", "supervisor", "far"):
        assert client.get(f"/api/v1/archives/{archive_id}", headers=people[refused]).status_code == 404
    return archive_id, people


def entries(client, headers, **query):
    response = client.get("/api/v1/audit", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def what(body):
    return [(item["actor"], item["action"], item["outcome"]) for item in body["items"]]


def test_township_staff_see_every_use_of_their_townships_archives(client, trail):
    archive_id, people = trail
    body = entries(client, people["staff"])
    assert {item["chain"] for item in body["items"]} == {TOWNSHIP}
    # Newest first, and no logins: those are in the system chain.
    assert what(body) == [("far.doctor", "archive.read", "denied"), ("supervisor423", "archive.read", "denied"),
                          ("township001", "archive.read", "denied"), ("township101", "archive.read", "ok"),
                          ("li.doctor", "archive.create", "ok")]
    times = [item["at"] for item in body["items"]]
    assert times == sorted(times, reverse=True)
    first = body["items"][-1]
    assert first["archive_id"] == archive_id and first["seq"] == 1 and first["id"] == f"{TOWNSHIP}:0000000001"
    # The other township's staff see nothing of it, not even their own refused attempt.
    assert entries(client, people["other_staff"])["items"] == []


def test_filters_and_pages(client, trail):
    archive_id, people = trail
    staff = people["staff"]
    denied = entries(client, staff, outcome="denied", archive_id=archive_id)
    assert {actor for actor, _action, _outcome in what(denied)} == {"township001", "supervisor423", "far.doctor"}
    # Listing an archive's trail is itself in it.
    assert what(entries(client, staff, actor="township101", archive_id=archive_id)) == [
        ("township101", "audit.list", "ok"), ("township101", "archive.read", "ok")]
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert entries(client, staff, since=later)["total"] == 0
    everything = entries(client, staff)
    page = entries(client, staff, per_page=2, page=2)
    # One more since: the entry of listing everything.
    assert page["total"] == everything["total"] + 1 and page["per_page"] == 2
    assert [item["id"] for item in page["items"]] == [item["id"] for item in everything["items"][1:3]]


def test_supervisors_see_their_own_trail_and_counts_for_their_region(client, db, trail):
    archive_id, people = trail
    supervisor = people["supervisor"]
    assert set(what(entries(client, supervisor))) == {("supervisor423", "auth.login", "ok"),
                                                      ("supervisor423", "archive.read", "denied")}
    refused = client.get("/api/v1/audit", query_string={"actor": "township101"}, headers=supervisor)
    assert refused.status_code == 403 and "counts" in refused.get_json()["detail"]
    assert db.audit.count_documents({"actor": "supervisor423", "action": "audit.list", "outcome": "denied"}) == 1

    make_archive(client, people["far"], n=1, village_code=FAR)  # an entry in the other county's chain
    counts = client.get("/api/v1/audit/counts", headers=supervisor).get_json()
    assert counts["region"] == COUNTY
    by_key = {(c["chain"], c["action"], c["outcome"]): c["count"] for c in counts["items"]}
    # Nothing of the other county's chains, nor of the system chain.
    assert by_key == {(TOWNSHIP, "archive.create", "ok"): 1, (TOWNSHIP, "archive.read", "denied"): 3,
                      (TOWNSHIP, "archive.read", "ok"): 1}
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert client.get("/api/v1/audit/counts", query_string={"since": later}, headers=supervisor).get_json()[
        "items"] == []


def test_administrators_see_all_and_village_doctors_none(client, db, trail):
    archive_id, people = trail
    chains = {item["chain"] for item in entries(client, people["admin"], per_page=200)["items"]}
    assert chains == {"system", TOWNSHIP}
    before = db.audit.count_documents({})
    response = client.get("/api/v1/audit", headers=people["doctor"])
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert "township health centre" in response.get_json()["detail"]
    assert client.get("/api/v1/audit/counts", headers=people["doctor"]).status_code == 403
    refusals = list(db.audit.find({"actor": "li.doctor", "outcome": "denied"}).sort("_id", 1))
    assert [entry["action"] for entry in refusals] == ["audit.list", "audit.counts"]
    assert db.audit.count_documents({}) == before + 2


@pytest.mark.parametrize("query, field", [
    ({"archive_id": "41142310110"}, "archive_id"),
    ({"since": "last tuesday"}, "since"),
    ({"per_page": 0}, "per_page"),
])
def test_bad_filters_answer_422_and_write_nothing(client, db, trail, query, field):
    _archive_id, people = trail
    before = db.audit.count_documents({})
    response = client.get("/api/v1/audit", query_string=query, headers=people["staff"])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert db.audit.count_documents({}) == before


# --- The disclosure report -------------------------------------------------------------

def test_disclosure_report_says_who_used_the_archive_when_and_why(client, trail):
    archive_id, people = trail
    response = client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["staff"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["archive_id"] == archive_id
    rows = [(i["actor"], i["actor_name"], i["action"], i["outcome"]) for i in body["items"]]
    assert rows[0] == ("li.doctor", "李医生", "archive.create", "ok")
    assert ("township101", "township101", "archive.read", "ok") in rows
    assert {row[0] for row in rows if row[3] == "denied"} == {"township001", "supervisor423", "far.doctor"}
    times = [item["at"] for item in body["items"]]
    assert times == sorted(times)
    read = next(item for item in body["items"] if item["actor"] == "township101")
    assert read["purpose"] == "jurisdiction" and read["role"] == "township_staff"
    assert all("ip" not in item for item in body["items"])


def test_the_report_names_every_list_that_showed_the_resident_and_every_reading_of_the_trail(
        client, db, trail):
    archive_id, people = trail
    other = make_archive(client, people["doctor"], n=1)
    found = client.post("/api/v1/archives/search", json={"name": "李秀英"}, headers=people["doctor"]).get_json()
    assert [item["id"] for item in found["items"]] == [archive_id]
    assert client.get("/api/v1/followups/due", query_string={"village": VILLAGE},
                      headers=people["doctor"]).status_code == 200
    entries(client, people["staff"], archive_id=archive_id)
    client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["staff"])

    def uses(archive):
        report = client.get(f"/api/v1/archives/{archive}/disclosures", headers=people["staff"]).get_json()
        return [(item["actor"], item["action"]) for item in report["items"] if item["outcome"] == "ok"]

    mine = uses(archive_id)
    assert ("li.doctor", "archive.search") in mine  # the name shown in a result list
    assert ("li.doctor", "followups.due") in mine
    assert ("township101", "audit.list") in mine and ("township101", "audit.disclosures") in mine
    assert ("li.doctor", "archive.search") not in uses(other)  # the search did not show that one
    assert ("li.doctor", "followups.due") in uses(other)


def test_only_the_archives_township_makes_its_disclosure_report(client, db, trail):
    archive_id, people = trail
    for who in ("other_staff", "supervisor", "doctor"):
        response = client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people[who])
        assert response.status_code == 403, who
        assert TOWNSHIP in response.get_json()["detail"]
    # The attempts land in the archive's own chain, so the resident's next report shows them.
    report = client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["staff"]).get_json()
    attempts = [(i["actor"], i["outcome"]) for i in report["items"] if i["action"] == "audit.disclosures"]
    assert attempts == [("township001", "denied"), ("supervisor423", "denied"), ("li.doctor", "denied")]
    assert client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["admin"]).status_code == 200
    before = db.audit.count_documents({})
    bad = client.get("/api/v1/archives/4114231011/disclosures", headers=people["staff"])
    assert bad.status_code == 422 and "archive_id" in bad.get_json()["errors"]
    assert db.audit.count_documents({}) == before



def test_the_printable_report_in_chinese_for_the_resident(client, trail):
    archive_id, _people = trail
    page_url = f"/archives/{archive_id}/disclosures"
    assert "/login" in client.get(page_url).headers["Location"]
    web_sign_in(client, "township101")
    page = client.get(page_url).get_data(as_text=True)
    assert "健康档案使用记录" in page and archive_id in page and "柳河镇 柳河村" in page
    assert "李医生 (村医)" in page and "建立档案" in page and "辖区医务人员提供服务" in page
    assert page.count("已拒绝") == 3 and "时间（北京时间）" in page
    assert "data-print" in page and "print.js" in page  # the print button
    client.get("/lang/en")
    assert "Who has used this health record" in client.get(page_url).get_data(as_text=True)


def test_the_printable_report_refuses_other_townships_and_bad_codes(client, trail):
    archive_id, _people = trail
    web_sign_in(client, "township001")
    refused = client.get(f"/archives/{archive_id}/disclosures")
    assert refused.status_code == 403 and "text/html" in refused.content_type
    assert TOWNSHIP in refused.get_data(as_text=True)
    bad = client.get("/archives/41142310110100/disclosures")
    assert bad.status_code == 422 and f"档案编号共 {LAYOUT.length} 位" in bad.get_data(as_text=True)


# --- Every audit query has an index ----------------------------------------------------

def test_every_audit_query_has_a_supporting_index(app, client, devdb, trail):
    archive_id, people = trail
    with watched(app, devdb) as listener:
        for who in ("staff", "supervisor", "admin"):
            client.get("/api/v1/audit", query_string={"since": "2026-01-01"}, headers=people[who])
            client.get("/api/v1/audit/counts", headers=people[who])
            client.get("/api/v1/audit/verify", headers=people[who])
        client.get("/api/v1/audit", query_string={"archive_id": archive_id}, headers=people["admin"])
        client.post("/api/v1/archives/search", json={"name": "李秀英"}, headers=people["doctor"])
        client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["staff"])
    assert len(list(listener.shapes(("audit", "audit_heads")))) >= 10
    assert unsupported(listener, ("audit", "audit_heads")) == []
