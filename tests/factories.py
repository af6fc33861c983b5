"""One way to make each thing a test needs: the county, users and their bearer headers,
archive bodies and archives, record bodies and records, access requests taken through
their steps. conftest.py hands them to tests as fixtures; helpers that take arguments are
imported from here. Everything but the users goes through the HTTP API, as clients do."""

import random
import re
import subprocess
import uuid
from datetime import date, timedelta

from openpyxl import Workbook

from healthrec import create_app
from healthrec.auth import service as auth
from healthrec.clock import today
from healthrec.db import ensure_indexes, get_db
from healthrec.ids import CodeLayout, fake_id_card
from healthrec.regions import service as regions
from healthrec.settings import from_env

PASSWORD = "correct horse battery"

# A small county: one urban street (001) with a residents' committee, one rural town (101)
# with two villages; the second county gives "out of scope" somewhere to be.
REGIONS = """code,name,population,year
411423,宁安县,,
411423001,城关街道,,
411423001001,东关社区,4000,2026
411423101,柳河镇,,
411423101101,柳河村,1200,2026
411423101102,前营村,800,2026
411424,平川县,,
411424101,平川镇,,
411424101101,平川村,900,2026
"""
COUNTY, TOWNSHIP, VILLAGE, NEIGHBOUR = "411423", "411423101", "411423101101", "411423101102"
URBAN_TOWNSHIP, URBAN = "411423001", "411423001001"
FAR_COUNTY, FAR = "411424", "411424101101"

# The archive-code layout the suite runs under: HEALTHREC_ARCHIVE_SERIAL_DIGITS=5 runs it on
# 17-digit codes.
LAYOUT = CodeLayout(from_env()["ARCHIVE_SERIAL_DIGITS"])


def code(serial, village=VILLAGE):
    """The archive code of `serial` in `village` under the suite's layout."""
    return LAYOUT.format(village, serial)

# Everyone an access request concerns, by the name tests call them: role and region.
CAST = {
    "sup": ("supervisor", COUNTY),
    "staff": ("township_staff", TOWNSHIP),
    "staff2": ("township_staff", TOWNSHIP),
    "town2": ("township_staff", URBAN_TOWNSHIP),
    "doc": ("village_doctor", VILLAGE),
    "doc2": ("village_doctor", NEIGHBOUR),
    "urban_doc": ("village_doctor", URBAN),
    "far": ("village_doctor", FAR),
    "admin": ("admin", COUNTY),
}


# --- Service processes, users and their tokens -----------------------------------------

def fresh_app(uri, keys, **changes):
    """The app on a new database of the server at `uri`, with its indexes and the county."""
    app = create_app({
        "ENV": "testing",
        "SECRET_KEY": "test-secret",
        "MONGO_URI": uri,
        "DB_NAME": "test_" + uuid.uuid4().hex[:12],
        "KEYS": keys,
        # Hundreds of logins: at the production cost they would take most of the run.
        "PASSWORD_PROFILE": "cheapest",
        # Regions read afresh, and mergers without their wait; tests of the cache ask for it.
        "REGIONS_CACHE_SECONDS": 0,
        **changes,
    })
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    with app.app_context():
        ensure_indexes(get_db())
        regions.import_csv(REGIONS)
    return app


def restarted(app, **changes):
    """Another service process on the database of `app`, with `changes` to its settings."""
    same = ("ENV", "SECRET_KEY", "MONGO_URI", "DB_NAME", "KEYS", "KEY_FILE", "PASSWORD_PROFILE",
            "REGIONS_CACHE_SECONDS")
    return create_app({name: app.config[name] for name in same} | changes)


def make_user(app, username, role, region, password=PASSWORD):
    with app.app_context():
        return auth.create_user(username, role, region, password)


def username_for(role, region):
    """The name `login` gives a user it makes: village101, township101, supervisor423…"""
    return f"{role.split('_')[0]}{region[-3:]}"


def bearer(client, username, password=PASSWORD):
    """Request headers carrying a fresh API token of the user."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": "Bearer " + response.get_json()["token"]}


def if_match(headers, response):
    """`headers` for a change to what `response` showed, at the version it showed."""
    return {**headers, "If-Match": response.headers["ETag"]}


# --- Archives --------------------------------------------------------------------------

def years_ago(years, days=0):
    """The birth date of someone `years` old today, `days` past that birthday."""
    current = today()
    try:
        day = current.replace(year=current.year - years)
    except ValueError:  # 29 February
        day = current.replace(year=current.year - years, day=28)
    return day - timedelta(days=days)


LIVING_CONDITIONS = {"kitchen_exhaust": "chimney", "fuel": "firewood", "water": "well", "toilet": "pit_cesspool",
                     "livestock_pen": "separate"}


# Every personal value a factory has put into a body, for the no-plaintext proof
# (tests/plaintext.py): whatever a test changes a resident to is searched for too.
PERSONAL: set[str] = set()


def personal_values():
    """The personal values the factories have used so far, and the places of care and
    people their forms name: none may be stored or logged in clear."""
    return PERSONAL | PLACES_OF_CARE | {GUARDIAN_VERBAL[name] for name in ("guardian_name", "witness")}


def _remember(body):
    values = [body.get(name) for name in ("name", "id_card", "phone", "address", "registered_address")]
    for part in ("contact", "guardian"):
        values += [value for key, value in (body.get(part) or {}).items() if key != "relation"]
    # A few ASCII characters (a test's bad phone "12345") turn up by chance in ciphertext
    # and hex tokens; a real phone or card number is longer.
    PERSONAL.update(value for value in values
                    if isinstance(value, str) and value and not (value.isascii() and len(value) < 8))


def resident(n=0, **changes):
    """A complete archive body (the whole personal basic information form) for resident `n`
    of VILLAGE, a woman in her sixties; each `n` is another person with a card of their
    own. `born` sets the birth date (and the card to match), a change to None leaves the
    field out."""
    born = changes.pop("born", date(1958, 4, 12) + timedelta(days=n))
    sex = changes.get("sex", "female")
    body = {
        "village_code": VILLAGE, "name": f"李秀英{n or ''}", "sex": sex, "birth_date": born.isoformat(),
        "id_card": fake_id_card(random.Random(n), born, sex), "phone": "13912345678",
        "address": "柳河村2组8号", "registered_address": "柳河村2组8号", "work_unit": "无(务农)",
        "contact": {"name": "王建军", "phone": "13812345678"}, "residence_type": "registered",
        "ethnicity": "han", "blood_type": {"abo": "a", "rh": "unknown"}, "education": "primary",
        "occupation": "agriculture", "marital_status": "married", "payment_methods": ["rural_cooperative"],
        "drug_allergies": [], "exposures": [], "hereditary_diseases": [], "disabilities": [],
        "family_history": [{"relation": "father", "conditions": ["hypertension"]}],
        "past_history": {"diseases": [{"code": "diabetes", "date": "2015-06"}]},
        "living_conditions": LIVING_CONDITIONS, "archiving_institution": "柳河村卫生室",
    }
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}
    _remember(body)
    return body


def post_archive(client, headers, n=0, key=None, **changes):
    headers = {**headers, "Idempotency-Key": key} if key else headers
    return client.post("/api/v1/archives", json=resident(n, **changes), headers=headers)


def make_archive(client, headers, n=0, **changes):
    """The id of a new archive for resident `n` (see `resident`)."""
    response = post_archive(client, headers, n, **changes)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


# --- Service records -------------------------------------------------------------------

def days_ago(days):
    return (today() - timedelta(days=days)).isoformat()


CHECKUP = {
    "symptoms": ["dizziness"],
    "general": {"temperature": 36.6, "pulse": 78, "height": 170, "weight": 72.3,
                "blood_pressure_left": {"systolic": 148, "diastolic": 92}},
    "lifestyle": {"smoking": {"status": "current", "daily_cigarettes": 10}},
    "auxiliary": {"fasting_glucose": 6.8, "lipids": {"total_cholesterol": 5.9}},
    "health_problems": ["原发性高血压"],
    "medications": [{"name": "硝苯地平缓释片", "dose": "20mg", "usage": "每日2次", "adherence": "regular"}],
    "evaluation": {"result": "abnormal", "abnormal_items": ["血压偏高"]},
    "guidance": {"actions": ["chronic_disease_management"], "advice": "低盐饮食，戒烟"},
}
# Where the forms below say a resident was treated, and by whom: sealed at rest (the
# township health centre a referral goes to is also where its staff work, so not these).
PLACES_OF_CARE = {"县人民医院", "张医生", "心内科"}
# What each kind (a follow-up: each population) needs beyond its kind and date.
FORMS: dict[tuple[str, str | None], dict] = {
    ("checkup", None): CHECKUP,
    ("encounter", None): {"subjective": "咳嗽", "assessment": "上呼吸道感染"},
    ("followup", "hypertension"): {"method": "home", "blood_pressure": {"systolic": 138, "diastolic": 86},
                                   "adherence": "regular", "control": "satisfactory"},
    ("followup", "diabetes"): {"fasting_glucose": 6.2, "adherence": "regular", "control": "satisfactory"},
    ("followup", "child"): {"height": 76.5, "weight": 9.8, "head_circumference": 45.2},
    ("followup", "maternal"): {"visit": "prenatal", "gestational_week": 16,
                               "blood_pressure": {"systolic": 110, "diastolic": 70}},
    ("followup", "elderly"): {"self_care_score": 5},
    ("followup", "severe_mental_disorder"): {"method": "home", "risk_level": "1", "symptoms": ["hallucinations"],
                                             "insight": "partial", "adherence": "regular",
                                             "medications": [{"name": "利培酮片", "dose": "2mg"}],
                                             "classification": "basically_stable"},
    ("followup", "tuberculosis"): {"method": "home", "visit": "followup", "treatment_month": 3, "supervisor": "family",
                                   "symptoms": ["cough_sputum"], "regimen": "2HRZE/4HR", "missed_doses": 1},
    ("referral", None): {"direction": "up", "from_institution": "柳河村卫生室", "to_institution": "柳河镇卫生院",
                         "to_region": TOWNSHIP, "reason": "血压控制不佳", "preliminary_diagnosis": "高血压3级"},
    ("consultation", None): {"reason": "胸痛待查", "consulted": [{"doctor": "张医生", "institution": "县人民医院"}],
                             "opinion": "建议冠脉CTA"},
    ("hospitalization", None): {"hospital": "县人民医院", "admitted": days_ago(9), "discharged": days_ago(2),
                                "diagnosis": "社区获得性肺炎", "outcome": "cured"},
}


def record_body(kind, population=None, **changes):
    """A valid record body of `kind` (a follow-up: of `population`), dated two days ago."""
    body = {"kind": kind, "date": days_ago(2), **FORMS[kind, population], **changes}
    if population:
        body["population"] = population
    return body


def checkup(**changes):
    return record_body("checkup", **changes)


def hypertension(day, **changes):
    """A hypertension follow-up on `day` (ISO date)."""
    return record_body("followup", "hypertension", date=day, **changes)


def post_record(client, headers, archive_id, body, key=None):
    headers = {**headers, "Idempotency-Key": key} if key else headers
    return client.post(f"/api/v1/archives/{archive_id}/records", json=body, headers=headers)


def make_record(client, headers, archive_id, body):
    """The new record, as the service answered it."""
    response = post_record(client, headers, archive_id, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def amend(client, headers, archive_id, record_id, changes, reason="录入错误", etag=None):
    """Amend with If-Match `etag`; by default the record's ETag as a GET by `headers` shows it."""
    path = f"/api/v1/archives/{archive_id}/records/{record_id}"
    etag = etag or client.get(path, headers=headers).headers.get("ETag")
    return client.post(f"{path}/amend", json={"changes": changes, "reason": reason},
                       headers={**headers, "If-Match": etag} if etag else headers)


def receive(client, headers, archive_id, record_id):
    """The receiving side confirms a referral."""
    return client.post(f"/api/v1/archives/{archive_id}/records/{record_id}/receive", headers=headers)


def timeline(client, headers, archive_id, **query):
    """The archive's records (a page of them), newest first."""
    response = client.get(f"/api/v1/archives/{archive_id}/records", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- Access requests -------------------------------------------------------------------

SELF_SIGNED = {"decision": "granted", "given_by": "self", "method": "signature"}
GUARDIAN_VERBAL = {"decision": "granted", "given_by": "guardian", "guardian_name": "赵建国",
                   "relation": "儿子", "method": "verbal_witnessed", "witness": "孙丽"}


def file_request(client, headers, archive_id, days=7, purpose="慢病管理质量抽查"):
    """A new (pending) access request, as the service answered it."""
    response = client.post("/api/v1/access-requests", headers=headers, json={
        "archive_id": archive_id, "purpose": purpose, "days": days,
        "application": "县卫健委慢病科申请查阅该档案高血压随访记录,用于季度质量抽查。"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def step(client, headers, request_id, name, body=None):
    return client.post(f"/api/v1/access-requests/{request_id}/{name}", headers=headers, json=body or {})


def approve(client, headers, request_id):
    return step(client, headers, request_id, "decision", {"decision": "approve"})


def granted(client, people, archive_id, who="sup"):
    """An active request of `who` (a CAST name): filed, approved by staff, consented at doc."""
    created = file_request(client, people[who], archive_id)
    assert approve(client, people["staff"], created["id"]).status_code == 200
    consented = step(client, people["doc"], created["id"], "consent", SELF_SIGNED)
    assert consented.get_json()["status"] == "active", consented.get_json()
    return created


# --- Legacy import files ---------------------------------------------------------------

def legacy_row(n=0, serial=None, village=VILLAGE, **changes):
    """A row of an import file, by Chinese header, for resident `n` (see `resident`): archive
    number `serial` (default n + 1) of `village`, established on paper in 2012. A change to
    None leaves the cell empty."""
    body = resident(n)
    row = {"档案编号": code(serial or n + 1, village), "姓名": body["name"], "性别": "女",
           "出生日期": body["birth_date"], "身份证号": body["id_card"], "建档日期": "2012-05-20",
           "联系电话": body["phone"], "现住址": body["address"], "药物过敏史": "无"}
    row.update(changes)
    return row


def import_file(path, rows, encoding="utf-8"):
    """Write `rows` (dicts by header) as a CSV file or, for a path ending .xlsx, an Excel
    workbook whose cells keep the values' types; the path."""
    header = list(dict.fromkeys(name for row in rows for name in row))
    table = [header] + [[row.get(name) for name in header] for row in rows]
    if str(path).endswith(".xlsx"):
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        for line in table:
            sheet.append(line)
        workbook.save(path)
    else:
        text = "\n".join(",".join("" if cell is None else str(cell) for cell in line) for line in table)
        path.write_bytes((text + "\n").encode(encoding))
    return path


# --- Family-doctor teams and contracts ----------------------------------------------------

def make_team(client, headers, members=("village101",), township=TOWNSHIP, lead="township101",
              name="柳河镇第一家庭医生团队"):
    """The id of a new family-doctor team (lead township101, by default with village101)."""
    response = client.post("/api/v1/teams", headers=headers, json={
        "township": township, "name": name, "lead": lead, "members": list(members)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


SIGNED = {"given_by": "self", "method": "signature"}


def sign_contract(client, headers, archive_id, team, package="basic", **changes):
    """Sign a contract for the archive's resident (their own signature); the response."""
    body = {"team": team, "package": package, "consent": SIGNED, **changes}
    return client.post(f"/api/v1/archives/{archive_id}/contracts", headers=headers, json=body)


def make_contract(client, headers, archive_id, team, **changes):
    """The new contract, as the service answered it."""
    response = sign_contract(client, headers, archive_id, team, **changes)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- Transfers of custody and mergers --------------------------------------------------

# A township of the county that a merger or a village handed over gives villages to.
STONE_BRIDGE, STONE_VILLAGE = "411423102", "411423102101"


def add_stone_bridge(runner, tmp_path):
    """Import 石桥乡 and its village 石桥村 as an administrator would."""
    path = tmp_path / "regions.csv"
    path.write_text(f"{STONE_BRIDGE},石桥乡,,\n{STONE_VILLAGE},石桥村,900,2026\n", encoding="utf-8")
    imported = runner.invoke(args=["regions", "import", str(path)])
    assert imported.exit_code == 0, imported.output


def ask_transfer(client, headers, archive_id, to_village, moved_on=None, reason="随子女迁居"):
    """The receiving side asks for the archive; the response."""
    return client.post(f"/api/v1/archives/{archive_id}/transfers", headers=headers,
                       json={"to_village": to_village, "reason": reason, "moved_on": moved_on or days_ago(3)})


def decide_transfer(client, headers, transfer_id, decision="confirm", note=None):
    body = {"decision": decision, **({"note": note} if note else {})}
    return client.post(f"/api/v1/transfers/{transfer_id}/decision", headers=headers, json=body)


def transferred(client, people, archive_id, to_village=URBAN, asker="urban_doc", releaser="staff"):
    """The archive moved to `to_village`: asked for by `asker`, confirmed by `releaser` (CAST names)."""
    asked = ask_transfer(client, people[asker], archive_id, to_village)
    assert asked.status_code == 201, asked.get_json()
    done = decide_transfer(client, people[releaser], asked.get_json()["id"])
    assert done.status_code == 200 and done.get_json()["status"] == "done", done.get_json()
    return done.get_json()


# --- Indicators and verification samples -----------------------------------------------

def coverage(client, headers, **query):
    """The indicator table answered for `query` (region, as_of, period)."""
    response = client.get("/api/v1/metrics/coverage", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def draw_sample(client, headers, region, size, **body):
    """A new verification sample, as the service answered it."""
    response = client.post("/api/v1/metrics/samples", json={"region": region, "size": size, **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def check(client, headers, sample_id, archive_id, **result):
    """Record a checker's result (default: qualified and confirmed true by phone)."""
    body = {"archive_id": archive_id, "qualified": True, "authentic": True, "method": "phone", **result}
    return client.post(f"/api/v1/metrics/samples/{sample_id}/results", json=body, headers=headers)


# --- Pages -------------------------------------------------------------------------------

def web_sign_in(client, username):
    """Sign `username` in on the pages, as the sign-in form does."""
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def error_next_to(page, field):
    """The error text a page shows at the field with API name `field`."""
    found = re.search(rf'id="f-{re.escape(field.replace(".", "-"))}-error">([^<]+)<', page)
    assert found, f"no error at {field}"
    return found.group(1)


# --- Printed forms ---------------------------------------------------------------------

def pdf_text(document):
    """The text of a PDF as poppler's pdftotext reads it, in reading order."""
    assert document.startswith(b"%PDF-"), document[:60]
    reader = ["/usr/bin/pdftotext", "-", "-"]  # Debian's poppler-utils (scripts/setup --dev)
    return subprocess.run(reader, input=document, capture_output=True, check=True).stdout.decode()
