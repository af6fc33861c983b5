"""Journeys through the pages in a real browser: Debian's Chromium, driven by Playwright,
against the app served by a real WSGI server on a loopback port, on the same dev
database as every other test. A village doctor on a phone with JavaScript off, the
township health centre on a desktop screen, and a county supervisor on a phone asking for
access, reading under the grant and printing the archive's forms; a screenshot of each
journey is saved under test-artifacts/."""

from openpyxl import load_workbook
from playwright.sync_api import expect

from healthrec import demo
from healthrec.clock import local, today
from tests import factories
from tests.browser import CJK, PHONE, fits, no_javascript, screenshot, sign_in
from tests.factories import VILLAGE, pdf_text


def test_village_doctor_on_a_phone_without_javascript(web, tab, browser, make_user, db):
    make_user("doctor", "village_doctor", VILLAGE)
    tab.set_viewport_size(PHONE)
    no_javascript(browser, tab)

    # Asked for a page before signing in: back to it after.
    tab.goto(f"{web}/archives/new")
    expect(tab.locator("h1")).to_have_text("登录")
    sign_in(tab, "doctor")
    expect(tab.locator("h1")).to_have_text("新建档案：个人基本信息")
    expect(tab.locator("#signed-in")).to_contain_text("doctor（村医）· 柳河村")
    id_card_label = tab.locator('label[for="f-id_card"]').inner_text()
    assert CJK.search(id_card_label), f"the ID card's label is not Chinese: {id_card_label!r}"

    resident = factories.resident()
    card = resident["id_card"]
    wrong = card[:17] + ("1" if card[17] != "1" else "2")
    tab.locator("#f-name").fill(resident["name"])
    tab.locator('input[name="sex"][value="female"]').check()
    tab.locator("#f-birth_date").fill(resident["birth_date"])
    tab.locator("#f-id_card").fill(wrong)
    tab.locator("#f-phone").fill(resident["phone"])
    tab.locator("#f-address").fill(resident["address"])
    tab.locator("#f-family_history > summary").click()
    tab.locator('input[name="family_history.none"]').check()
    tab.locator("#f-past_history > summary").click()
    tab.locator('input[name="past_history.none"]').check()
    tab.locator("#f-allergies").fill("青霉素")
    tab.locator('input[name="enrolment_consent.given_by"][value="self"]').check()
    tab.locator('input[name="enrolment_consent.method"][value="signature"]').check()
    tab.locator("#f-id_card").press("Enter")  # sends the form, not a row's "add a row"

    expect(tab.locator("#f-id_card-error")).to_contain_text("校验位")
    expect(tab.locator("#error-summary")).to_contain_text("校验位")
    assert db.archives.count_documents({}) == 0
    assert fits(tab, PHONE["width"])
    screenshot(tab, "village-doctor-id-card-error")

    tab.locator("#f-id_card").fill(card)
    tab.get_by_role("button", name="建立档案").click()
    expect(tab.locator(".flash.success")).to_contain_text("已建立")
    archive_id = tab.url.rsplit("/", 1)[1]

    tab.locator('input[name="form"][value="followup.hypertension"]').check()
    tab.get_by_role("button", name="填写表单").click()
    tab.locator('input[name="records.0.method"][value="home"]').check()
    tab.locator("#f-records-0-blood_pressure-systolic").fill("146")
    tab.locator("#f-records-0-blood_pressure-diastolic").fill("92")
    tab.locator('input[name="records.0.adherence"][value="regular"]').check()
    tab.locator('input[name="records.0.control"][value="unsatisfactory"]').check()
    tab.get_by_role("button", name="保存本次服务").click()

    expect(tab.locator(".flash.success")).to_contain_text("已保存")
    timeline = tab.locator("#timeline + ul")
    expect(timeline).to_contain_text("随访")
    expect(timeline).to_contain_text("146")
    assert tab.url.endswith(f"/archives/{archive_id}")
    assert db.records.count_documents({"archive_id": archive_id, "population": "hypertension"}) == 1
    assert fits(tab, PHONE["width"])
    screenshot(tab, "village-doctor-archive")


def test_township_reviews_and_grants_access_with_consent(web, tab, client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    filed = factories.file_request(client, people["sup"], archive_id)
    people["staff"]
    tab.set_viewport_size({"width": 1024, "height": 768})

    tab.goto(web)
    sign_in(tab, "staff")
    expect(tab.locator("#signed-in")).to_contain_text("staff（乡镇卫生院工作人员）· 柳河镇")
    tab.get_by_role("link", name="审核", exact=True).click()
    queue = tab.locator("section", has=tab.locator(f'a[href="/archives/{archive_id}"]'))
    expect(queue).to_contain_text("李秀英")
    queue.locator('input[name="verdict"][value="qualified"]').check()
    queue.get_by_role("button", name="保存审核结果").click()
    expect(tab.locator(".flash.success")).to_contain_text("审核结果已保存")
    assert db.archives.find_one({"_id": archive_id})["review"]["verdict"] == "qualified"

    tab.get_by_role("link", name="查阅申请").click()
    tab.get_by_role("link", name="慢病管理质量抽查").click()
    tab.locator('input[name="decision"][value="approve"]').check()
    tab.get_by_role("button", name="保存审批结果").click()
    expect(tab.locator("#request-status")).to_have_text("已批准，待本人同意")
    # The resident's answer is recorded by a colleague of the one who approved (four eyes).
    request_page = tab.url
    people["staff2"]
    tab.get_by_role("button", name="退出").click()
    sign_in(tab, "staff2")
    tab.goto(request_page)
    tab.locator('input[name="decision"][value="granted"]').check()
    tab.locator('input[name="given_by"][value="guardian"]').check()
    tab.locator("#f-guardian_name").fill("赵建国")
    tab.locator("#f-relation").fill("儿子")
    tab.locator('input[name="method"][value="verbal_witnessed"]').check()
    tab.get_by_role("button", name="登记答复").click()
    expect(tab.locator("#f-witness-error")).to_have_text("口头同意须填写见证人姓名。")
    tab.locator("#f-witness").fill("孙丽")
    tab.get_by_role("button", name="登记答复").click()

    expect(tab.locator("#request-status")).to_have_text("已授权")
    expect(tab.locator("article")).to_contain_text("见证人 孙丽")
    assert db.access_requests.find_one({"_id": filed["id"]})["status"] == "active"
    tab.emulate_media(media="print")
    expect(tab.locator("nav")).to_be_hidden()
    screenshot(tab, "township-consent-record")


def test_supervisor_requests_access_and_reads_under_the_grant_on_a_phone(web, tab, browser, client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    people["sup"], people["staff"], people["staff2"]
    tab.set_viewport_size(PHONE)
    no_javascript(browser, tab)

    tab.goto(web)
    sign_in(tab, "sup")
    expect(tab.locator("#readable + ul")).to_contain_text("暂无")
    tab.get_by_role("link", name="提交查阅申请").click()
    tab.get_by_label("档案编号").fill(archive_id)
    tab.get_by_label("用途（不要写人名）").fill("慢病管理质量抽查")
    tab.get_by_label("书面申请").fill("县卫健委慢病科申请查阅该档案的高血压随访记录，用于季度质量抽查。")
    tab.get_by_label("查阅天数").fill("0")
    tab.get_by_role("button", name="提交申请").click()
    expect(tab.locator("#f-days-error")).to_have_text("请填写不小于 1 的数。")
    assert db.access_requests.count_documents({}) == 0
    assert fits(tab, PHONE["width"])
    tab.get_by_label("查阅天数").fill("10")
    tab.get_by_role("button", name="提交申请").click()
    expect(tab.locator("#request-status")).to_have_text("待审批")
    request_id = tab.url.rsplit("/", 1)[1]

    # The township health centre approves; the resident consents in person, recorded by a
    # colleague of the one who approved (four eyes).
    browser.clear_cookies()
    tab.goto(f"{web}/access-requests/{request_id}")
    sign_in(tab, "staff")
    tab.locator('input[name="decision"][value="approve"]').check()
    tab.get_by_role("button", name="保存审批结果").click()
    expect(tab.locator("#request-status")).to_have_text("已批准，待本人同意")
    browser.clear_cookies()
    tab.goto(f"{web}/access-requests/{request_id}")
    sign_in(tab, "staff2")
    tab.locator('input[name="decision"][value="granted"]').check()
    tab.locator('input[name="given_by"][value="self"]').check()
    tab.locator('input[name="method"][value="signature"]').check()
    tab.get_by_role("button", name="登记答复").click()
    expect(tab.locator("#request-status")).to_have_text("已授权")

    browser.clear_cookies()
    tab.goto(web)
    sign_in(tab, "sup")
    until = db.access_requests.find_one({"_id": request_id})["valid_until"]
    shown_until = f"{local(until):%Y-%m-%d %H:%M}"
    readable = tab.locator("#readable + ul")
    expect(readable).to_contain_text(f"已授权，有效至 {shown_until}")
    assert fits(tab, PHONE["width"])
    screenshot(tab, "supervisor-home")
    readable.get_by_role("link", name="查阅档案").click()
    banner = tab.locator("#grant-banner")
    expect(banner).to_contain_text(request_id)
    expect(banner).to_contain_text(f"有效至 {shown_until}")
    expect(tab.locator("h1")).to_have_text("李秀英")
    assert fits(tab, PHONE["width"])
    screenshot(tab, "supervisor-reads-under-a-grant")

    # The printed forms, fetched with the page's session as the links would.
    for link, title in (("档案封面（PDF）", "居民健康档案"), ("个人基本信息表（PDF）", "个人基本信息表")):
        href = tab.get_by_role("link", name=link).get_attribute("href")
        response = tab.request.get(f"{web}{href}")
        assert response.ok and response.headers["content-type"] == "application/pdf"
        text = pdf_text(response.body())
        assert title in text and "居民健康档案" in text and "李秀英" in text and archive_id in text
    printed = db.audit.find({"action": "archive.print", "actor": "sup", "archive_id": archive_id})
    assert sorted(entry["detail"]["form"] for entry in printed if entry["grant"] == request_id) == \
        ["basic_info", "cover"]


def test_the_api_browser_runs_under_the_pages_content_policy(web, tab):
    refused = []
    tab.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
           else None)
    tab.goto(web + "/api/docs")
    expect(tab.locator(".swagger-ui .info .title")).to_contain_text("healthrec")
    expect(tab.get_by_text("/api/v1/archives/{archive_id}", exact=True).first).to_be_visible()
    assert refused == []


def test_supervisor_follows_the_indicators_and_checks_a_sample(web, tab, client, db, tmp_path):
    """The demo county's supervisor on a phone: the townships against their targets, down
    to a village, the Excel file, and a verification sample drawn and checked."""
    db.regions.delete_many({})  # the demo county goes into an empty database
    demo.seed()
    for _made in demo.residents(60):
        pass
    tab.set_viewport_size(PHONE)
    tab.goto(web)
    tab.get_by_label("用户名").fill("supervisor")
    tab.get_by_label("密码").fill(demo.PASSWORD)
    tab.get_by_role("button", name="登录").click()

    tab.get_by_role("navigation", name="主菜单").get_by_role("link", name="建档指标").click()
    expect(tab.locator("h1")).to_have_text("建档指标 · 宁安县")
    table = tab.locator("table.figures")
    for _segment, township, _kind, _villages in demo.TOWNSHIPS:
        row = table.locator("tr.region", has=tab.get_by_role("link", name=township, exact=True))
        expect(row).to_contain_text("未达标")  # 60 archives in a county of tens of thousands
        expect(tab.locator("svg.chart")).to_contain_text(township)
    assert fits(tab, PHONE["width"])
    box = tab.locator(".scroll").first
    assert box.evaluate("element => element.scrollWidth > element.clientWidth"), "the table does not scroll in its box"
    screenshot(tab, "supervisor-dashboard")

    table.get_by_role("link", name="柳河镇", exact=True).click()
    expect(tab.locator("h1")).to_have_text("建档指标 · 柳河镇")
    tab.locator("table.figures").get_by_role("link", name="柳河村", exact=True).click()
    expect(tab.locator("h1")).to_have_text("建档指标 · 柳河村")
    tab.locator(".trail").get_by_role("link", name="宁安县").click()
    expect(tab.locator("h1")).to_have_text("建档指标 · 宁安县")

    with tab.expect_download() as downloaded:
        tab.get_by_role("link", name="Excel (.xlsx)").click()
    workbook = tmp_path / downloaded.value.suggested_filename
    assert workbook.name == f"coverage-411423-{today().isoformat()}.xlsx"
    downloaded.value.save_as(workbook)
    sheet = load_workbook(workbook)["建档指标"]
    header, *lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    whole = {line[header.index("地区代码")]: dict(zip(header, line, strict=True)) for line in lines
             if line[header.index("范围")] == "合计"}
    api = factories.coverage(client, factories.bearer(client, "supervisor", demo.PASSWORD))
    assert set(whole) == {api["region"], *(child["region"] for child in api["children"])}
    for figures in (api, *api["children"]):
        line = whole[figures["region"]]
        assert (line["常住人口"], line["建档数"], line["建档率(%)"], line["使用率(%)"]) == (
            figures["population"], figures["archived"], figures["coverage_rate"], figures["usage_rate"])

    tab.get_by_role("navigation", name="主菜单").get_by_role("link", name="抽查核实").click()
    tab.get_by_role("link", name="抽取样本").click()
    tab.get_by_label("地区代码").fill("411423101")
    tab.get_by_label("抽取份数").fill("2")
    tab.get_by_role("button", name="抽取").click()
    expect(tab.locator(".flash.success")).to_contain_text("抽取了 2 份档案")
    expect(tab.locator("#progress")).to_contain_text("0 / 2")
    drawn = tab.locator("#drawn > li").first
    archive_id = drawn.get_by_role("link").first.inner_text()
    drawn.get_by_role("link").first.click()  # the checker opens the drawn archive
    expect(tab.locator("main")).to_contain_text(archive_id)
    tab.go_back()
    tab.locator("#drawn > li").first.get_by_role("link", name="登记核查结果").click()
    tab.locator('input[name="qualified"][value="true"]').check()
    tab.locator('input[name="authentic"][value="true"]').check()
    tab.locator('input[name="method"][value="phone"]').check()
    tab.get_by_role("button", name="登记核查结果").click()
    expect(tab.locator(".flash.success")).to_contain_text("已登记")
    expect(tab.locator("#progress")).to_contain_text("1 / 2")
    assert db.audit.count_documents({"actor": "supervisor", "archive_id": archive_id, "action": "archive.read"}) == 1
    assert fits(tab, PHONE["width"])
    screenshot(tab, "supervisor-sample")
