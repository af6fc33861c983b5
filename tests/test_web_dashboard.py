"""The indicator dashboard and the verification pages through the Flask test client: each
role's scope, a bad query refused in Chinese, the downloads holding the API's numbers, and
a sample drawn, checked and counted."""

import csv
import io
import re
from datetime import timedelta

import pytest

from healthrec.clock import today
from healthrec.web.charts import BAR_WIDTH, LEFT, coverage_chart
from tests import factories
from tests.factories import (
    COUNTY,
    TOWNSHIP,
    URBAN_TOWNSHIP,
    VILLAGE,
    draw_sample,
    error_next_to,
    make_archive,
    web_sign_in,
)


def rows_of(page):
    """{region code: the text of its first row} of the dashboard's table."""
    found = {}
    for row in re.findall(r'<tr class="region">(.*?)</tr>', page, re.S):
        code = re.search(r'<span class="meta">(\d+)</span>', row)
        assert code, row
        found[code.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    return found


@pytest.fixture
def county(client, people):
    """Three archives in 柳河村 and one in 东关社区 (urban), the supervisor signed in."""
    for n in range(3):
        make_archive(client, people["doc"], n)
    make_archive(client, people["urban_doc"], 3, village_code=factories.URBAN)
    people["sup"]
    web_sign_in(client, "sup")
    return client


def test_the_supervisor_sees_each_township_against_its_target_and_drills_down(county):
    page = county.get("/dashboard").get_data(as_text=True)
    rows = rows_of(page)
    assert list(rows) == [COUNTY, URBAN_TOWNSHIP, TOWNSHIP]
    # 柳河镇: 3 archives of 2 000 residents, 0.2 % against the rural target; 城关街道 1 of 4 000.
    assert "2000 3 0.2%" in rows[TOWNSHIP] and "✗ 未达标" in rows[TOWNSHIP]
    assert "4000 1 0.0%" in rows[URBAN_TOWNSHIP] and "✗ 未达标" in rows[URBAN_TOWNSHIP]
    assert "城镇" in page and "农村" in page
    svg = re.search(r"<svg .*?</svg>", page, re.S)
    assert svg, "no chart"
    chart = svg.group(0)
    assert "柳河镇 · 农村" in chart and "城关街道 · 城镇" in chart and chart.count("<rect") == 2

    village_page = county.get(f"/dashboard?region={TOWNSHIP}").get_data(as_text=True)
    assert list(rows_of(village_page)) == [TOWNSHIP, VILLAGE, factories.NEIGHBOUR]
    assert "1200 3 0.3%" in rows_of(village_page)[VILLAGE]
    assert f'href="/dashboard?region={COUNTY}"' in village_page  # the way back up


def test_the_day_and_period_travel_with_the_drill_down(county):
    day = (today() - timedelta(days=3)).isoformat()
    page = county.get(f"/dashboard?as_of={day}&period={today().year}").get_data(as_text=True)
    assert f"截至 {day}" in page
    assert f'href="/dashboard?region={TOWNSHIP}&amp;as_of={day}&amp;period={today().year}"' in page
    assert f'href="/dashboard.xlsx?as_of={day}&amp;period={today().year}&amp;region={COUNTY}"' in page


@pytest.mark.parametrize("query,field,words", [
    ({"as_of": "tomorrow"}, "as_of", "不能晚于今天"),
    ({"period": "去年"}, "period", "2026-01-01/2026-06-30"),
    ({"as_of": "2026-02-30"}, "as_of", "年-月-日"),
])
def test_a_bad_query_is_refused_in_chinese(county, db, query, field, words):
    if query.get("as_of") == "tomorrow":  # the day the test runs, which may not be the day it was collected
        query = {"as_of": (today() + timedelta(days=1)).isoformat()}
    response = county.get("/dashboard", query_string=query)
    assert response.status_code == 400
    assert words in error_next_to(response.get_data(as_text=True), field)
    assert county.get("/dashboard.csv", query_string=query).status_code == 400


def test_township_staff_see_their_township_and_not_another(client, people):
    make_archive(client, people["doc"])
    people["staff"]
    web_sign_in(client, "staff")
    own = client.get("/dashboard").get_data(as_text=True)
    assert list(rows_of(own)) == [TOWNSHIP, VILLAGE, factories.NEIGHBOUR]
    other = client.get(f"/dashboard?region={URBAN_TOWNSHIP}")
    assert other.status_code == 403
    text = other.get_data(as_text=True)
    assert "不在您的辖区" in text and "城关街道" not in rows_of(text).get(URBAN_TOWNSHIP, "")
    assert client.get(f"/dashboard.xlsx?region={URBAN_TOWNSHIP}").status_code == 403


def test_a_village_doctor_sees_their_village(client, people):
    make_archive(client, people["doc"])
    web_sign_in(client, "doc")
    assert list(rows_of(client.get("/dashboard").get_data(as_text=True))) == [VILLAGE]
    assert client.get(f"/dashboard?region={TOWNSHIP}").status_code == 403


def test_the_csv_holds_the_api_figures(county, people):
    response = county.get(f"/dashboard.csv?region={TOWNSHIP}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="coverage-{TOWNSHIP}-{today().isoformat()}.csv"' in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    lines = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    api = factories.coverage(county, people["sup"], region=TOWNSHIP)
    whole = {line["地区代码"]: line for line in lines if line["范围"] == "合计"}
    assert whole[TOWNSHIP]["建档数"] == str(api["archived"]) == "3"
    assert whole[TOWNSHIP]["建档率(%)"] == str(api["coverage_rate"])
    for child in api["children"]:
        assert whole[child["region"]]["建档数"] == str(child["archived"])
        assert whole[child["region"]]["常住人口"] == str(child["population"])


# --- Verification samples --------------------------------------------------------------

def test_drawing_refuses_bad_fields_in_chinese_and_writes_nothing(county, db, make_user):
    make_user("far_sup", "supervisor", factories.FAR_COUNTY)
    late = (today() + timedelta(days=60)).isoformat()
    response = county.post("/samples/new", data={"region": TOWNSHIP, "size": "0", "checkers": "sup\nnobody\nfar_sup",
                                                 "due": late})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1 至 1000" in error_next_to(page, "size")
    strangers = county.post("/samples/new", data={"region": TOWNSHIP, "size": "1",
                                                  "checkers": "sup\nnobody\nfar_sup"}).get_data(as_text=True)
    checkers = re.findall(r'id="f-checkers-error">([^<]+)<', strangers)
    assert any("nobody" in text and "没有" in text for text in checkers)
    assert any("far_sup" in text and "督导" in text for text in checkers)
    assert db.samples.count_documents({}) == 0
    big = county.post("/samples/new", data={"region": TOWNSHIP, "size": "9"}).get_data(as_text=True)
    assert "至多抽取 3 份" in error_next_to(big, "size")
    assert "最后一天" in error_next_to(county.post("/samples/new", data={"region": TOWNSHIP, "size": "1", "due": late})
                                     .get_data(as_text=True), "due")
    assert db.samples.count_documents({}) == 0


def test_a_sample_is_drawn_checked_and_counted(county, db):
    drawn = county.post("/samples/new", data={"region": VILLAGE, "size": "2"})
    assert drawn.status_code == 302
    sample_url = drawn.headers["Location"]
    sample = db.samples.find_one()
    assert sample_url == f"/samples/{sample['_id']}" and len(sample["archives"]) == 2
    page = county.get(sample_url).get_data(as_text=True)
    assert "0 / 2" in page and "抽取了 2 份档案" in page
    first = sample["archives"][0]
    assert f'href="/archives/{first}"' in page  # the checker opens the drawn archive

    form_url = f"{sample_url}/archives/{first}"
    lacking = county.post(form_url, data={"qualified": "false", "authentic": "true", "method": "phone"})
    assert lacking.status_code == 422
    assert "请写明档案缺少的内容" in error_next_to(lacking.get_data(as_text=True), "missing")
    unanswered = county.post(form_url, data={"method": "phone"}).get_data(as_text=True)
    assert "必填" in error_next_to(unanswered, "qualified") and "必填" in error_next_to(unanswered, "authentic")
    assert db.sample_results.count_documents({}) == 0

    saved = county.post(form_url, data={"qualified": "false", "missing": "既往史\n联系电话", "authentic": "true",
                                        "method": "phone", "note": "电话核实本人"})
    assert saved.status_code == 302
    result = db.sample_results.find_one()
    assert (result["qualified"], result["missing"], result["authentic"]) == (False, ["既往史", "联系电话"], True)
    page = county.get(sample_url).get_data(as_text=True)
    assert re.search(r'id="progress"><strong>1 / 2</strong>', page)
    assert "不合格" in page and "既往史、联系电话" in page
    listed = county.get("/samples").get_data(as_text=True)
    assert "已核查 1 / 2" in listed and "0.0%" in listed and "100.0%" in listed
    # The result is kept as recorded; a different one is refused.
    again = county.post(form_url, data={"qualified": "true", "authentic": "true", "method": "phone"})
    assert again.status_code == 409 and "已登记" in again.get_data(as_text=True)
    assert db.sample_results.find_one()["qualified"] is False


def test_village_doctors_draw_no_samples(client, people, db):
    make_archive(client, people["doc"])
    web_sign_in(client, "doc")
    assert "抽取样本" not in client.get("/samples").get_data(as_text=True)
    refused = client.post("/samples/new", data={"region": VILLAGE, "size": "1"})
    assert refused.status_code == 403 and "不由被考核的村卫生室抽取" in refused.get_data(as_text=True)
    assert db.samples.count_documents({}) == 0


def test_a_sample_from_the_api_shows_its_progress_in_the_list(client, people):
    archive = make_archive(client, people["doc"])
    sample = draw_sample(client, people["sup"], VILLAGE, 1)
    assert factories.check(client, people["sup"], sample["id"], archive).status_code == 200
    listed = client.get("/api/v1/metrics/samples", headers=people["sup"]).get_json()
    assert listed["items"][0]["progress"] == {"checked": 1, "qualified": 1, "authentic": 1, "qualified_rate": 100.0,
                                              "authenticity_rate": 100.0}


def test_the_chart_stretches_its_scale_for_coverage_beyond_the_population():
    """More archives than residents (a population figure out of date) still fits the chart."""
    village = {"region": VILLAGE, "name": "柳河村", "urban": None, "rural": None}
    table = {"children": [{**village, "coverage_rate": 120.0, "target": {"rate": 30, "met": True}},
                          {**village, "name": None, "coverage_rate": None, "target": {"rate": None, "met": None}}]}
    chart = coverage_chart(table)
    assert [percent for _x, percent in chart.ticks] == [0, 25, 50, 75, 100, 125]
    full, empty = chart.bars
    assert full.width == pytest.approx(BAR_WIDTH * 120 / 125) and full.met is True
    assert full.target_x == pytest.approx(LEFT + BAR_WIDTH * 30 / 125)
    assert (empty.name, empty.width, empty.target_x) == (VILLAGE, 0, None)
