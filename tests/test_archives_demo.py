"""`flask demo seed --residents N`: believable archives in the demo county, with the
checkups and follow-ups a few years of care leave."""

from collections import Counter

from healthrec import demo
from healthrec.archives import service
from healthrec.archives.rules import age_on
from healthrec.audit import chain
from healthrec.clock import today
from healthrec.ids import parse_id_card
from tests.factories import bearer, code, resident


def test_demo_residents_spread_over_the_county(app, runner, db):
    db.regions.delete_many({})  # the demo county goes into an empty database
    result = runner.invoke(args=["demo", "seed", "--residents", "120"])
    assert result.exit_code == 0, result.output
    assert "Creating resident archives and their records" in result.output
    assert "doctor" in result.output  # the demo logins follow

    with app.app_context():
        archives = [service.present(doc) for doc in db.archives.find()]
    assert len(archives) == 120
    demo_villages = {code for _, code, _, _ in demo.villages()}
    assert {a["village_code"] for a in archives} <= demo_villages
    assert len({a["village_code"] for a in archives}) >= 20
    assert len({a["name"] for a in archives}) >= 100  # names vary

    # Most archives hold the whole basic information form (outside the two demo villages the
    # responsible doctor is left to fill in); some are still to ask.
    answered = sum(set(a["completeness"]["missing"]) <= {"responsible_doctor"} for a in archives)
    assert 80 <= answered < 120
    populations = Counter(flag for a in archives for flag in a["key_populations"])
    assert populations["elderly"] >= 10 and populations["child"] >= 4
    assert populations["hypertension"] >= 5 and populations["diabetes"] >= 1

    day = today()
    for archive in archives:
        assert 2 <= len(archive["name"]) <= 3
        if archive["id_card"]:  # it agrees with the archive, or creation would have refused it
            assert parse_id_card(archive["id_card"]).birth_date == archive["birth_date"]
        if age_on(archive["birth_date"], day) < 18:
            assert archive["guardian"]["relation"] in ("father", "mother")
            assert len(archive["guardian"]["phone"]) == 11
        else:
            assert len(archive["phone"]) == 11
    # The two demo village doctors are responsible for their villages' residents.
    assert {a["responsible_doctor"] for a in archives if a["village_code"] == "411423101101"} == {"doctor"}


def test_demo_residents_come_with_a_spread_of_service_records(app, client, runner, db):
    db.regions.delete_many({})
    assert runner.invoke(args=["demo", "seed", "--residents", "600"]).exit_code == 0
    archives, records = list(db.archives.find()), list(db.records.find())
    assert len(archives) == 600 and 2 * 600 <= len(records) <= 4 * 600
    kinds = Counter(doc.get("population") or doc["kind"] for doc in records)
    assert kinds.keys() >= {"checkup", "hypertension", "diabetes", "child", "encounter"}
    with app.app_context():  # the flags are sealed: matched by their tokens
        flagged = {doc["_id"] for doc in archives if service.has_population(doc, "hypertension")}
    followed = {doc["archive_id"] for doc in records if doc.get("population") == "hypertension"}
    assert followed == flagged

    doctor = bearer(client, "doctor", demo.PASSWORD)
    village = "411423101101"
    mine = next(doc for doc in archives if doc["village"] == village and doc["_id"] in flagged)
    timeline = client.get(f"/api/v1/archives/{mine['_id']}/records", headers=doctor).get_json()
    assert timeline["total"] >= 3 and all(item["author"] == "doctor" for item in timeline["items"])
    due = client.get("/api/v1/followups/due", query_string={"village": village}, headers=doctor).get_json()
    reasons = Counter(item["reason"] for item in due["items"])
    # A follow-up due by the calendar, or a recheck after an uncontrolled one.
    assert reasons["hypertension"] + reasons["hypertension_recheck"] >= 1 and reasons["elderly_checkup"] >= 1
    # Not everyone is due: some were seen recently.
    assert len({item["archive_id"] for item in due["items"]}) < db.archives.count_documents({"village": village})

    # Written as the services write: numbering carries on, every batch is in the audit trail.
    last = max(doc["_id"] for doc in archives if doc["_id"].startswith(village))
    created = client.post("/api/v1/archives", json=resident(9, village_code=village), headers=doctor)
    assert created.get_json()["id"] == code(int(last[len(village):]) + 1, village)
    assert db.audit.count_documents({"action": "demo.seed"}) >= 5
    assert chain.verify(db)["ok"]
