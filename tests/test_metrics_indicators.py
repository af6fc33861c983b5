"""The plan's indicators over HTTP, on a county built by hand whose every figure is worked
out below from what was put in, not by the code under test."""

import io
import re
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from xml.etree import ElementTree

import pytest

from healthrec import clock
from healthrec.clock import today
from healthrec.regions import service as regions
from tests.factories import (
    COUNTY,
    NEIGHBOUR,
    TOWNSHIP,
    URBAN_TOWNSHIP,
    VILLAGE,
    check,
    coverage,
    draw_sample,
    hypertension,
    import_file,
    legacy_row,
    make_archive,
    make_contract,
    make_record,
    make_team,
    record_body,
)
from tests.querycheck import unsupported, watched

# The day asked about lies in the past, so that later events (an archive created the next
# morning, one closed the day after) can be left out.
AS_OF = today() - timedelta(days=20)
YEAR = AS_OF.year
HAND_BUILT = "411426"
T_URBAN, T_RURAL = "411426001", "411426101"
V_URBAN, V_EMPTY, V_OTHER = "411426001001", "411426001002", "411426001901"
V_RURAL, V_SAMPLED = "411426101101", "411426101102"
# The county and the rural township have no figure of their own: they sum their children.
# The street's own figure (9000) is not the sum of its villages (1800).
POPULATIONS = f"""code,name,population,year
411426,明德县,,
411426001,城东街道,9000,{YEAR}
411426001001,东城社区,1000,{YEAR}
411426001002,西城社区,0,{YEAR}
411426001901,工业园区,800,{YEAR}
411426101,河西镇,,
411426101101,河西村,10,{YEAR}
411426101102,沙岗村,600,{YEAR}
"""


def day(offset):
    """AS_OF moved by `offset` days, as an ISO date."""
    return (AS_OF + timedelta(days=offset)).isoformat()


def born(years, days=0):
    """The birth date of someone `years` old on AS_OF (their birthday), `days` later."""
    try:
        birthday = AS_OF.replace(year=AS_OF.year - years)
    except ValueError:  # 29 February
        birthday = AS_OF.replace(year=AS_OF.year - years, day=28)
    return birthday + timedelta(days=days)


@pytest.fixture
def pin(monkeypatch):
    """pin(day, hour, minute): the clock shows that time of the clinic's day (China);
    pin(None) gives the real clock back."""
    real = clock.utcnow

    def pin_to(on, hour=10, minute=0):
        moment = on and datetime.combine(on, time(hour, minute), tzinfo=clock.CHINA).astimezone(UTC)
        monkeypatch.setattr(clock, "utcnow", (lambda: moment) if moment else real)
    return pin_to


@pytest.fixture
def county(app, client, login, pin):
    """The hand-built county; returns the supervisor's headers."""
    with app.app_context():
        regions.import_csv(POPULATIONS)
    # Targets of the programme's second year: urban 40 %, rural 20 %.
    app.config["PROGRAMME_START_YEAR"] = YEAR - 1
    doctors = {village: login("village_doctor", village) for village in (V_URBAN, V_EMPTY, V_OTHER, V_RURAL,
                                                                        V_SAMPLED)}
    supervisor = login("supervisor", HAND_BUILT)
    serial = iter(range(100, 200))

    def archive(village, when=AS_OF - timedelta(days=200), hour=10, minute=0, years=40, **changes):
        """A new archive of a resident aged `years` on AS_OF, created at that time of day `when`."""
        pin(when, hour, minute)
        try:
            return make_archive(client, doctors[village], next(serial), village_code=village,
                                born=changes.pop("born", born(years)), **changes)
        finally:
            pin(None)

    def records(village, archive_id, *bodies):
        for body in bodies:
            make_record(client, doctors[village], archive_id, body)

    def encounter(offset):
        return record_body("encounter", date=day(offset))

    def diabetes(offset):
        return record_body("followup", "diabetes", date=day(offset), method="clinic")

    # 东城社区 (urban): a1 a2 a3 a5 a7 a8 archived on AS_OF.
    a = {
        "a1": archive(V_URBAN, years=65),  # 65 on AS_OF: elderly
        "a2": archive(V_URBAN, phone=None, address=None),  # basic information incomplete
        "a3": archive(V_URBAN, born=born(65, days=1)),  # 65 the day after AS_OF
        "a4": archive(V_URBAN),  # closed before AS_OF
        "a5": archive(V_URBAN, AS_OF, hour=23, minute=30),  # created late on AS_OF
        "a6": archive(V_URBAN, AS_OF + timedelta(days=1), hour=0, minute=30),  # the next morning
        "a7": archive(V_URBAN),  # closed after AS_OF
        "a8": archive(V_URBAN, key_populations=["hypertension"]),
    }
    records(V_URBAN, a["a1"], encounter(-30), record_body("checkup", date=day(0)))
    records(V_URBAN, a["a2"], encounter(-365))  # exactly 365 days before: within the year
    records(V_URBAN, a["a3"], encounter(-366))  # 366 days before: not
    records(V_URBAN, a["a4"], encounter(-100))
    records(V_URBAN, a["a6"], encounter(-5))  # dated before its archive was made
    # Face-to-face follow-ups on four days within the year, the last controlled; one more
    # before the year counts for nothing.
    records(V_URBAN, a["a8"], *(hypertension(day(offset), method=method) for offset, method in (
        (-400, "home"), (-300, "home"), (-200, "clinic"), (-100, "home"), (-10, "clinic"))))
    for name, closed_on in (("a4", day(-60)), ("a7", day(2))):
        response = client.post(f"/api/v1/archives/{a[name]}/close", headers=doctors[V_URBAN],
                               json={"reason": "moved_away", "date": closed_on})
        assert response.status_code == 200, response.get_json()
    # 西城社区 (urban, population 0) and 工业园区 (other: no target).
    archive(V_EMPTY)
    archive(V_OTHER)
    archive(V_OTHER)

    # 河西村 (rural, population 10).
    d1 = archive(V_RURAL, key_populations=["hypertension"])
    d2 = archive(V_RURAL, key_populations=["diabetes"])
    d3 = archive(V_RURAL, years=70, key_populations=["hypertension"])
    # Face-to-face on three days and a phone call: managed, not standardised; the last
    # follow-up not controlled.
    records(V_RURAL, d1, *(hypertension(day(offset), method=method) for offset, method in (
        (-90, "home"), (-60, "home"), (-30, "phone"))),
            hypertension(day(-5), blood_pressure={"systolic": 168, "diastolic": 102}, control="unsatisfactory"))
    # Four forms on three days (two at one visit): not standardised; the last day controlled.
    records(V_RURAL, d2, diabetes(-300), diabetes(-200), diabetes(-100), diabetes(-100))
    # Elderly, last checked up on the last day of the year before: no checkup this year.
    records(V_RURAL, d3, encounter(-1), record_body("checkup", date=date(YEAR - 1, 12, 31).isoformat()))
    # d1 signed with a family doctor before AS_OF, d2 only after it.
    staff = login("township_staff", T_RURAL, "hexi.staff")
    team = make_team(client, staff, members=[], township=T_RURAL, lead="hexi.staff", name="河西镇家庭医生团队")
    for patient, signed in ((d1, AS_OF - timedelta(days=10)), (d2, AS_OF + timedelta(days=1))):
        pin(signed)
        make_contract(client, staff, patient, team)
    pin(None)

    # 沙岗村 (rural): all three archives drawn and checked on AS_OF.
    for _ in range(3):
        archive(V_SAMPLED)
    sample = draw_sample(client, supervisor, V_SAMPLED, 3)
    first, second, third = sample["archives"]
    pin(AS_OF)
    assert check(client, supervisor, sample["id"], first).status_code == 200
    assert check(client, supervisor, sample["id"], second, qualified=False, missing=["phone"]).status_code == 200
    assert check(client, supervisor, sample["id"], third, authentic=False, method="home_visit",
                 note="住址无此人").status_code == 200
    # One check of the year before, which only a period naming that year counts.
    earlier = draw_sample(client, supervisor, V_RURAL, 1)
    pin(date(YEAR - 1, 12, 31))
    assert check(client, supervisor, earlier["id"], earlier["archives"][0], qualified=False,
                 missing=["family_history"], method="logic").status_code == 200
    pin(None)
    return supervisor


def main(row):
    """The headline figures of a row: population, archived, coverage, complete,
    completeness, active, usage, checked, qualified rate, authenticity rate, target."""
    return (row["population"], row["archived"], row["coverage_rate"], row["complete"], row["completeness_rate"],
            row["active"], row["usage_rate"], row["checked"], row["qualified_rate"], row["authenticity_rate"],
            row["target"])


def chronic(row):
    """Elderly (archived, checked up, rate) and, for hypertension and diabetes, (archived,
    managed, standardised, controlled, standardised rate, control rate)."""
    return (tuple(row["elderly"].values()),
            *(tuple(row[name][key] for key in ("archived", "managed", "standardised", "controlled",
                                               "standardised_rate", "control_rate"))
              for name in ("hypertension", "diabetes")))


def target(rate, met):
    return {"rate": rate, "met": met}


def test_every_figure_of_a_hand_built_county(client, county):
    supervisor = county
    table = coverage(client, supervisor, region=HAND_BUILT, as_of=AS_OF.isoformat())
    assert (table["as_of"], table["period"], table["programme_year"]) == (
        AS_OF.isoformat(), {"from": f"{YEAR}-01-01", "to": AS_OF.isoformat()}, 2)
    assert table["basis"]["usage_rate"] == "all"
    assert (table["region"], table["name"], table["level"]) == (HAND_BUILT, "明德县", "county")
    street, town = table["children"]

    # 东城社区: a1 a2 a3 a5 a7 a8 archived (a4 closed before AS_OF, a6 created after it, a7
    # closed only after); a2 incomplete; a1 (a checkup), a2 (365 days) and a8 served within
    # the year, a3 (366 days) not. 6/1000 = 0.6 %, below the urban 40 %.
    villages = {row["region"]: row for row in coverage(client, supervisor, region=T_URBAN,
                                                        as_of=AS_OF.isoformat())["children"]}
    villages |= {row["region"]: row for row in coverage(client, supervisor, region=T_RURAL,
                                                         as_of=AS_OF.isoformat())["children"]}
    assert main(villages[V_URBAN]) == (1000, 6, 0.6, 5, 83.3, 3, 50.0, 0, None, None, target(40, False))
    assert chronic(villages[V_URBAN]) == ((1, 1, 100.0), (1, 1, 1, 1, 100.0, 100.0), (0, 0, 0, 0, None, None))
    # No population: no coverage, and so no verdict on the target.
    assert main(villages[V_EMPTY]) == (0, 1, None, 1, 100.0, 0, 0.0, 0, None, None, target(40, None))
    # Kind "other" has no target; 2/800 = 0.25 % rounds half up.
    assert villages[V_OTHER]["kind"] == "other"
    assert main(villages[V_OTHER]) == (800, 2, 0.3, 2, 100.0, 0, 0.0, 0, None, None, target(None, None))
    # 河西村: 3/10 = 30 %, above the rural 20 %; all three served within the year.
    assert main(villages[V_RURAL]) == (10, 3, 30.0, 3, 100.0, 3, 100.0, 0, None, None, target(20, True))
    assert (villages[V_RURAL]["contracted"], villages[V_RURAL]["contract_rate"]) == (1, 10.0)  # 签约率
    assert chronic(villages[V_RURAL]) == ((1, 0, 0.0), (2, 1, 0, 0, 0.0, 0.0), (1, 1, 0, 1, 0.0, 100.0))
    # 沙岗村: three checked, one not qualified, one not true.
    assert main(villages[V_SAMPLED]) == (600, 3, 0.5, 3, 100.0, 0, 0.0, 3, 66.7, 66.7, target(20, False))

    # The street counts its own population; its urban part sums its urban villages.
    assert (street["region"], street["level"], street["kind"]) == (T_URBAN, "township", None)
    assert main(street) == (9000, 9, 0.1, 8, 88.9, 3, 33.3, 0, None, None, target(None, False))
    assert main(street["urban"]) == (1000, 7, 0.7, 6, 85.7, 3, 42.9, 0, None, None, target(40, False))
    assert street["rural"] is None
    # The town has no population of its own: 10 + 600; 6/610 = 0.98 %.
    assert main(town) == (610, 6, 1.0, 6, 100.0, 3, 50.0, 3, 66.7, 66.7, target(None, False))
    assert (town["contracted"], town["contract_rate"], street["contract_rate"]) == (1, 0.2, 0.0)
    assert main(town["rural"]) == main(town)[:-1] + (target(20, False),)
    assert town["urban"] is None

    # The county: 9000 + 610 people, 15 archives, 14 complete, 6 active.
    assert main(table) == (9610, 15, 0.2, 14, 93.3, 6, 40.0, 3, 66.7, 66.7, target(None, False))
    assert (table["contracted"], table["contract_rate"]) == (1, 0.0)
    assert chronic(table) == ((2, 1, 50.0), (3, 2, 1, 1, 33.3, 50.0), (1, 1, 0, 1, 0.0, 100.0))
    assert main(table["urban"]) == main(street["urban"])
    assert main(table["rural"]) == main(town["rural"])


def test_a_day_in_the_past_answers_from_the_data_as_it_was(client, county):
    # Made 200 days before AS_OF; a4 closed 60 days before it, a5 made late on AS_OF, a6 the
    # morning after, a7 closed two days after.
    archived = [coverage(client, county, region=V_URBAN, as_of=day(offset))["archived"]
                for offset in (-201, -61, -60, 0, 1, 2)]
    assert archived == [0, 6, 5, 6, 7, 6]


def test_a_paper_archive_counts_from_the_day_it_was_established(client, runner, people, tmp_path):
    people["staff"]
    path = import_file(tmp_path / "档案.csv", [legacy_row(0, 建档日期="2012-05-20")])
    result = runner.invoke(args=["archives", "import", str(path), "--by", "staff"])
    assert result.exit_code == 0, result.output
    archived = [coverage(client, people["doc"], as_of=day)["archived"] for day in ("2012-05-19", "2012-05-20")]
    assert archived == [0, 1]


def test_the_period_chooses_which_checks_count(client, county):
    supervisor = county
    last_year = coverage(client, supervisor, region=T_RURAL, as_of=AS_OF.isoformat(), period=str(YEAR - 1))
    assert (last_year["period"], last_year["checked"], last_year["qualified_rate"],
            last_year["authenticity_rate"]) == ({"from": f"{YEAR - 1}-01-01", "to": f"{YEAR - 1}-12-31"}, 1, 0.0,
                                                100.0)
    both = coverage(client, supervisor, region=T_RURAL, as_of=AS_OF.isoformat(),
                    period=f"{YEAR - 1}-12-31/{AS_OF.isoformat()}")
    assert (both["checked"], both["qualified"], both["authentic"]) == (4, 2, 3)


# --- The same numbers as files ---------------------------------------------------------

def xlsx_rows(content):
    """The first sheet of a workbook as rows of values (text, numbers), read from its XML."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        # Our own service's output, not untrusted input.
        strings = ["".join(item.itertext()) for item in
                   ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", ns)]  # noqa: S314
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314
    assert sheet.findall(".//m:f", ns) == []  # no formulas
    rows = []
    for row in sheet.findall(".//m:row", ns):
        cells = {}
        for cell in row.findall("m:c", ns):
            column = "".join(letter for letter in cell.get("r", "") if letter.isalpha())
            raw = cell.findtext("m:v", "", ns)
            cells[column] = strings[int(raw)] if cell.get("t") == "s" else float(raw)
        width = max(column_index(column) for column in cells) + 1
        rows.append([cells.get(column_name(index)) for index in range(width)])
    return rows


def column_index(name):
    index = 0
    for letter in name:
        index = index * 26 + ord(letter) - 64
    return index - 1


def column_name(index):
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def test_the_workbook_and_the_csv_hold_the_same_numbers(client, county):
    query = {"region": HAND_BUILT, "as_of": AS_OF.isoformat()}
    table = coverage(client, county, **query)
    workbook = client.get("/api/v1/metrics/coverage", query_string={**query, "format": "xlsx"}, headers=county)
    assert workbook.status_code == 200
    assert workbook.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f'filename="coverage-{HAND_BUILT}-{AS_OF.isoformat()}.xlsx"' in workbook.headers["Content-Disposition"]
    sheet = xlsx_rows(workbook.data)
    header, lines = sheet[0], sheet[1:]
    assert header[:8] == ["截至日期", "考核期起", "考核期止", "地区代码", "地区名称", "级别", "类别", "范围"]
    named = [dict(zip(header, line + [None] * (len(header) - len(line)), strict=True)) for line in lines]
    # The county, its urban and rural parts, then each township with its part.
    assert [(row["地区代码"], row["范围"]) for row in named] == [
        (HAND_BUILT, "合计"), (HAND_BUILT, "城镇部分"), (HAND_BUILT, "农村部分"),
        (T_URBAN, "合计"), (T_URBAN, "城镇部分"), (T_RURAL, "合计"), (T_RURAL, "农村部分")]
    street = table["children"][0]
    for row, figures in zip(named, [table, table["urban"], table["rural"], street, street["urban"],
                                    table["children"][1], table["children"][1]["rural"]], strict=True):
        assert (row["常住人口"], row["建档数"], row["建档率(%)"], row["建档率目标(%)"], row["是否达标"],
                row["完整率(%)"], row["活档数"], row["使用率(%)"], row["抽查档案数"], row["合格率(%)"],
                row["真实率(%)"], row["签约率(%)"], row["老年人健康管理率(%)"], row["高血压规范管理率(%)"],
                row["高血压控制率(%)"], row["糖尿病控制率(%)"]) == (
            figures["population"], figures["archived"], figures["coverage_rate"], figures["target"]["rate"],
            {True: "是", False: "否", None: None}[figures["target"]["met"]], figures["completeness_rate"],
            figures["active"], figures["usage_rate"], figures["checked"], figures["qualified_rate"],
            figures["authenticity_rate"], figures["contract_rate"], figures["elderly"]["management_rate"],
            figures["hypertension"]["standardised_rate"], figures["hypertension"]["control_rate"],
            figures["diabetes"]["control_rate"])
    assert named[0]["建档率(%)"] == 0.2 and named[3]["地区名称"] == "城东街道" and named[0]["级别"] == "县"

    csv_file = client.get("/api/v1/metrics/coverage", query_string={**query, "format": "csv"}, headers=county)
    assert csv_file.status_code == 200 and csv_file.mimetype == "text/csv"
    assert csv_file.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once: a client may refuse two
    assert csv_file.data.startswith("\ufeff".encode())  # Excel reads the Chinese as UTF-8
    text_rows = [line.split(",") for line in csv_file.data.decode("utf-8-sig").splitlines()]
    assert text_rows[0] == header
    # The same cells: the figures (from the ninth column) as numbers, nothing as an empty cell.
    assert [line[:8] + [float(cell) if re.fullmatch(r"[\d.]+", cell) else cell or None for cell in line[8:]]
            for line in text_rows[1:]] == [[cell or "" for cell in line[:8]] + line[8:] + [None] * (
                len(header) - len(line)) for line in lines]


def test_text_that_looks_like_a_formula_stays_text(app, client, people):
    with app.app_context():
        regions.import_csv(f"code,name,population,year\n411423101103,=HYPERLINK(\"http://x\"),300,{YEAR}\n")
    query = {"region": TOWNSHIP, "format": "csv"}
    text = client.get("/api/v1/metrics/coverage", query_string=query, headers=people["sup"]).data.decode()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    workbook = client.get("/api/v1/metrics/coverage", query_string={**query, "format": "xlsx"},
                          headers=people["sup"])
    names = [row[4] for row in xlsx_rows(workbook.data)[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names


# --- Who sees which figures ------------------------------------------------------------

def test_each_user_sees_the_figures_of_their_own_scope(client, db, people, login):
    for headers, region in ((people["doc"], VILLAGE), (people["staff"], TOWNSHIP), (people["staff"], VILLAGE),
                            (people["sup"], COUNTY), (people["sup"], TOWNSHIP)):
        assert coverage(client, headers, region=region)["region"] == region
    assert coverage(client, people["doc"])["region"] == VILLAGE  # default: one's own region
    province = login("supervisor", "41")
    assert [row["region"] for row in coverage(client, province, region="4114")["children"]] == [COUNTY, "411424"]
    refused = [(people["doc"], NEIGHBOUR), (people["doc"], URBAN_TOWNSHIP), (people["far"], TOWNSHIP),
               (people["staff"], COUNTY), (people["sup"], "411424"), (people["admin"], COUNTY)]
    for headers, region in refused:
        response = client.get("/api/v1/metrics/coverage", query_string={"region": region}, headers=headers)
        assert response.status_code == 403, (region, response.get_json())
        assert response.mimetype == "application/problem+json"
    denied = sorted(entry["actor"] for entry in db.audit.find({"action": "metrics.coverage", "outcome": "denied"}))
    assert denied == sorted(["doc", "doc", "far", "staff", "sup", "admin"])


@pytest.mark.parametrize("query, field", [
    ({"region": "41142"}, "region"),
    ({"as_of": "2026-02-30"}, "as_of"),
    ({"as_of": "tomorrow"}, "as_of"),
    ({"as_of": "0031-08-18"}, "as_of"),  # was a 500: the elderly's birth dates counted back before year 1
    ({"period": "26"}, "period"),
    ({"period": "2026-07-01/2026-06-30"}, "period"),
    ({"format": "pdf"}, "format"),
])
def test_a_bad_question_is_a_clear_422(client, people, query, field):
    # Tomorrow as the test runs, not as it was collected: a run may cross midnight.
    if query.get("as_of") == "tomorrow":
        query = {"as_of": (today() + timedelta(days=1)).isoformat()}
    response = client.get("/api/v1/metrics/coverage", query_string={"region": COUNTY, **query},
                          headers=people["sup"])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]


def test_an_unknown_region_in_scope_is_404(client, people, login):
    response = client.get("/api/v1/metrics/coverage", query_string={"region": "411423199"},
                          headers=people["sup"])
    assert response.status_code == 404
    response = client.get("/api/v1/metrics/coverage", query_string={"region": "4199"},
                          headers=login("supervisor", "41"))
    assert response.status_code == 404


# --- A fixed number of queries, each served by an index -------------------------------

def test_a_county_takes_a_fixed_number_of_queries_each_with_an_index(app, client, devdb, county):
    collections = ("archives", "records", "regions", "samples", "sample_results", "contracts", "users")
    pipelines = {}
    for region in (HAND_BUILT, T_RURAL, V_URBAN):
        with watched(app, devdb) as listener:
            coverage(client, county, region=region, as_of=AS_OF.isoformat())
        assert unsupported(listener, collections) == []
        pipelines[region] = Counter(command["aggregate"] for name, command in listener.seen if name == "aggregate")
        # Every pipeline leads with a custody field and a date range.
        for name, command in listener.seen:
            if name == "aggregate":
                match = command["pipeline"][0]["$match"]
                assert {"village", "township", "county"} & set(match), match
                assert {"established_on", "date", "checked_on", "signed_on"} & set(match), match
    # The same pipelines for a county as for a village: one over the archives, three over
    # the records, one over the sample results (and the contracts' counts).
    assert pipelines[HAND_BUILT] == pipelines[T_RURAL] == pipelines[V_URBAN]
    assert {name: pipelines[HAND_BUILT][name] for name in ("archives", "records", "sample_results")} == {
        "archives": 1, "records": 3, "sample_results": 1}
