"""Region import (all or nothing) and the region API; village-code rules; validity over
time; how an import reaches every service process."""

from datetime import timedelta

import pytest

from healthrec import clock
from healthrec.regions import service as regions
from healthrec.settings import SettingsError, finalise, from_env
from tests.factories import resident, restarted

BAD_FILE = """code,name,population,year
411425,新县,,
411425101,新镇,,
411425101101,新村,1000,2026
411425101250,错村,800,2026
41142510110,短码村,800,2026
411425102101,孤村,800,2026
411425101102,负村,-5,2026
"""


def test_region_api_gives_level_kind_parent_and_population(client, login):
    headers = login("supervisor", "411423")
    village = client.get("/api/v1/regions/411423101101", headers=headers).get_json()
    assert village == {"code": "411423101101", "name": "柳河村", "level": "village", "kind": "rural",
                       "parent": "411423101", "population": {"2026": 1200}, "valid_from": None, "valid_to": None,
                       "successor": None, "former_parents": []}
    urban = client.get("/api/v1/regions/411423001001", headers=headers).get_json()
    assert urban["kind"] == "urban"
    county = client.get("/api/v1/regions/411423", headers=headers).get_json()
    assert county["level"] == "county" and county["parent"] is None


def test_unknown_and_malformed_region_codes(client, login):
    headers = login("supervisor", "411423")
    missing = client.get("/api/v1/regions/411423101199", headers=headers)
    assert missing.status_code == 404
    malformed = client.get("/api/v1/regions/4114231", headers=headers)
    assert malformed.status_code == 422
    assert "6 digits" in malformed.get_json()["detail"]


def test_import_with_bad_rows_imports_nothing_and_names_each_line(runner, db, tmp_path):
    before = list(db.regions.find().sort("_id"))
    path = tmp_path / "regions.csv"
    path.write_text(BAD_FILE, encoding="utf-8")
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert "line 5:" in result.output and "250" in result.output     # village segment
    assert "line 6:" in result.output and "6 digits" in result.output  # wrong length
    assert "line 7:" in result.output and "411425102" in result.output  # parent missing
    assert "line 8:" in result.output and "population" in result.output
    assert "line 4:" not in result.output
    assert list(db.regions.find().sort("_id")) == before


def test_reimport_updates_names_and_adds_years(runner, db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("411423101101,柳河新村,1300,2027\n411423101101,柳河新村,1250,2026\n", encoding="utf-8")
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 0, result.output
    village = db.regions.find_one({"_id": "411423101101"})
    assert village["name"] == "柳河新村"
    assert village["population"] == {"2026": 1250, "2027": 1300}
    assert db.regions.count_documents({"_id": "411423101101"}) == 1


@pytest.mark.parametrize("app", [{"REGIONS_CACHE_SECONDS": 60}], indirect=True)
def test_an_import_reaches_other_processes_new_regions_at_once_changes_within_a_minute(app, monkeypatch):
    importer = restarted(app)  # `flask regions import`, a process of its own
    with app.app_context():
        assert regions.get_region("411423101101")["name"] == "柳河村"  # this process keeps it
    with importer.app_context():
        regions.import_csv("411423101101,柳河新村,1300,2027\n411423101103,后营村,700,2027\n")
    with app.app_context():
        assert regions.get_region("411423101103")["name"] == "后营村"  # never seen here: read at once
        assert regions.get_region("411423101101")["name"] == "柳河村"  # kept a while
        later = clock.utcnow() + timedelta(seconds=app.config["REGIONS_CACHE_SECONDS"])
        monkeypatch.setattr(clock, "utcnow", lambda: later)
        assert regions.get_region("411423101101")["name"] == "柳河新村"
    with importer.app_context():  # the importing process itself forgot its copies at once
        assert regions.get_region("411423101101")["population"] == {"2026": 1200, "2027": 1300}


# --- Kinds, rules for village codes, and validity over time -----------------------------

def import_text(runner, tmp_path, text):
    path = tmp_path / "regions.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["regions", "import", str(path)])


def test_an_explicit_kind_overrides_the_guess_from_the_code(runner, db, tmp_path):
    result = import_text(runner, tmp_path, "411423101103,城中村,900,2026,urban\n411423101104,后营村,700,2026\n")
    assert result.exit_code == 0, result.output
    assert db.regions.find_one({"_id": "411423101103"})["kind"] == "urban"  # 103 would say rural
    assert db.regions.find_one({"_id": "411423101104"})["kind"] == "rural"


def test_bad_kinds_and_dates_import_nothing_and_name_each_line(runner, db, tmp_path):
    before = list(db.regions.find().sort("_id"))
    result = import_text(runner, tmp_path, "\n".join([
        "411423101103,城中村,900,2026,town",
        "411423102,石桥乡,,,rural",
        "411423101104,后营村,700,2026,,2026-02-30",
        "411423101105,张庄村,700,2026,rural,2020-01-01,2019-12-31",
    ]) + "\n")
    assert result.exit_code == 1
    assert "line 1: kind must be one of urban, rural, other, got 'town'" in result.output
    assert "line 2: kind (urban, rural, other) is given for villages only" in result.output
    assert "line 3: valid_from must be a date YYYY-MM-DD" in result.output
    assert "line 4: valid_to 2019-12-31 is before valid_from 2020-01-01" in result.output
    assert list(db.regions.find().sort("_id")) == before


def test_a_retired_village_stays_readable_but_takes_no_new_archive(client, runner, tmp_path, doctor, login):
    result = import_text(runner, tmp_path, "411423101101,柳河村,1200,2026,,2001-01-01,2025-12-31\n")
    assert result.exit_code == 0, result.output
    region = client.get("/api/v1/regions/411423101101", headers=login("supervisor", "411423")).get_json()
    assert (region["valid_from"], region["valid_to"]) == ("2001-01-01", "2025-12-31")
    refused = client.post("/api/v1/archives", json=resident(0), headers=doctor)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["village_code"] == [
        "Village 411423101101 (柳河村) was retired on 2025-12-31."]


@pytest.mark.parametrize("app", [{"VILLAGE_CODES": "statistical"}], indirect=True)
def test_statistical_village_codes_when_the_county_holds_them(client, db, runner, tmp_path, login):
    result = import_text(runner, tmp_path, "411423101250,张庄村委会,700,2026\n411423101450,开发区社区,300,2026\n")
    assert result.exit_code == 0, result.output
    assert db.regions.find_one({"_id": "411423101250"})["kind"] == "rural"
    assert db.regions.find_one({"_id": "411423101450"})["kind"] == "urban"
    doctor = login("village_doctor", "411423101250")
    created = client.post("/api/v1/archives", json=resident(0, village_code="411423101250"), headers=doctor)
    assert created.status_code == 201, created.get_json()
    assert client.get(f"/api/v1/archives/{created.get_json()['id']}", headers=doctor).status_code == 200
    refused = import_text(runner, tmp_path, "411423101650,某村,700,2026\n")
    assert refused.exit_code == 1 and "200-399 (village committee, rural)" in refused.output


def test_the_health_archive_rule_refuses_statistical_village_codes(runner, db, tmp_path):
    result = import_text(runner, tmp_path, "411423101250,张庄村委会,700,2026\n")
    assert result.exit_code == 1
    assert "village segment 250 is not allowed; use 001-099" in result.output
    assert db.regions.find_one({"_id": "411423101250"}) is None


def test_the_village_code_rule_is_a_checked_setting():
    with pytest.raises(SettingsError, match="HEALTHREC_VILLAGE_CODES must be archive"):
        finalise(from_env({"HEALTHREC_VILLAGE_CODES": "national", "HEALTHREC_SECRET_KEY": "x"}))


def test_lists_for_an_unknown_village_say_so(client, db, doctor, township):
    for url in ("/api/v1/archives", "/api/v1/followups/due"):
        response = client.get(url, query_string={"village": "411423101199"}, headers=township)
        assert response.status_code == 422, url
        assert response.get_json()["errors"]["village"] == ["There is no region 411423101199; check the code."]
