"""`flask demo seed --residents N`: believable archives in the demo county."""

from collections import Counter

from healthrec import demo
from healthrec.archives import service
from healthrec.archives.rules import age_on
from healthrec.clock import today
from healthrec.ids import parse_id_card


def test_demo_residents_spread_over_the_county(app, runner, db):
    db.regions.delete_many({})  # the demo county goes into an empty database
    result = runner.invoke(args=["demo", "seed", "--residents", "120"])
    assert result.exit_code == 0, result.output
    assert "Creating resident archives" in result.output
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
