"""Region import (all or nothing), the region API, and how an import reaches every
service process."""

from datetime import timedelta

from healthrec import clock
from healthrec.regions import service as regions
from tests.factories import restarted

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
                       "parent": "411423101", "population": {"2026": 1200}}
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


def test_an_import_reaches_other_processes_new_regions_at_once_changes_within_a_minute(app, monkeypatch):
    importer = restarted(app)  # `flask regions import`, a process of its own
    with app.app_context():
        assert regions.get_region("411423101101")["name"] == "柳河村"  # this process keeps it
    with importer.app_context():
        regions.import_csv("411423101101,柳河新村,1300,2027\n411423101103,后营村,700,2027\n")
    with app.app_context():
        assert regions.get_region("411423101103")["name"] == "后营村"  # never seen here: read at once
        assert regions.get_region("411423101101")["name"] == "柳河村"  # kept a while
        later = clock.utcnow() + timedelta(seconds=regions.CACHE_SECONDS)
        monkeypatch.setattr(clock, "utcnow", lambda: later)
        assert regions.get_region("411423101101")["name"] == "柳河新村"
    with importer.app_context():  # the importing process itself forgot its copies at once
        assert regions.get_region("411423101101")["population"] == {"2026": 1200, "2027": 1300}
