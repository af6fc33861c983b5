"""A believable demo county: townships, urban and rural villages with populations,
one user per role, and residents' archives spread over the villages with the checkups,
follow-ups and other visits a few years of primary care leave."""

import random
from datetime import date, timedelta

from bson import ObjectId

from healthrec import clock
from healthrec.archives import service as archives
from healthrec.archives.rules import age_on
from healthrec.audit.log import record
from healthrec.auth import roles
from healthrec.auth import service as auth
from healthrec.auth.user import User
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.ids import fake_id_card, site_layout
from healthrec.records import kinds
from healthrec.records import writes as records
from healthrec.regions import service as regions
from schemas.records.registry import validate_record

COUNTY = ("411423", "宁安县")
TOWNSHIPS = [
    ("001", "城关街道", "urban", "东关社区 西关社区 南街社区 北街社区 新华社区 文化路社区".split()),
    ("101", "柳河镇", "rural", "柳河村 前营村 后营村 张庄村 李庄村 王楼村 赵集村 孙寨村".split()),
    ("102", "石桥乡", "rural", "石桥村 杨树村 白庙村 刘湾村 高庄村 马集村 陈楼村".split()),
    ("103", "大营镇", "rural", "大营村 小营村 东岗村 西岗村 黄河村 丁庄村 周庄村 吴集村 郑湾村".split()),
    ("104", "河口乡", "rural", "河口村 沙窝村 林场村 新庄村 胡寨村 何楼村".split()),
]
PASSWORD = "healthrec-demo"


def is_empty():
    return get_db().regions.find_one({}, {"_id": 1}) is None


def villages(townships=TOWNSHIPS):
    """(township code, village code, village name, kind) of the demo villages."""
    for segment, _town, kind, names in townships:
        township = COUNTY[0] + segment
        first = 1 if kind == "urban" else 101
        for offset, name in enumerate(names):
            yield township, f"{township}{first + offset:03d}", name, kind


def region_rows(rng):
    """CSV rows code,name,population,year for this year and last."""
    county, name = COUNTY
    this_year = clock.today().year
    rows = [f"{county},{name},,"]
    for entry in TOWNSHIPS:
        rows.append(f"{county}{entry[0]},{entry[1]},,")
        for _township, code, village, kind in villages([entry]):
            population = rng.randint(2500, 6000) if kind == "urban" else rng.randint(600, 2400)
            rows.append(f"{code},{village},{population - rng.randint(0, 60)},{this_year - 1}")
            rows.append(f"{code},{village},{population},{this_year}")
    return rows


def demo_users():
    county = COUNTY[0]
    township = county + TOWNSHIPS[1][0]
    return [
        ("admin", roles.ADMIN, county, "系统管理员"),
        ("supervisor", roles.SUPERVISOR, county, "县卫健局督导"),
        ("township", roles.TOWNSHIP_STAFF, township, "柳河镇卫生院"),
        ("doctor", roles.VILLAGE_DOCTOR, township + "101", "柳河村医生"),
        ("doctor2", roles.VILLAGE_DOCTOR, township + "102", "前营村医生"),
    ]


def seed(seed_value=2026):
    """Regions and users; returns the (username, password, role, region) logins made."""
    rng = random.Random(seed_value)
    regions.import_csv("\n".join(region_rows(rng)))
    logins = []
    for username, role, region, name in demo_users():
        auth.create_user(username, role, region, PASSWORD, name=name)
        logins.append((username, PASSWORD, role, region))
    return logins


# --- Residents -------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢"
            "蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟")
GIVEN = {
    "male": "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宁 建国 建华 志强 国强 红军 海涛 "
            "俊杰 浩然 子轩 宇航 建军 永刚 春生 德明 文博 振华 保国".split(),
    "female": "芳 娜 敏 静 丽 艳 娟 霞 秀英 桂英 玉兰 秀兰 春梅 海燕 丽娟 淑珍 凤英 欣怡 梓涵 雨桐 "
              "佳怡 婷 雪 慧 玲 红梅 翠花 小红 素芬 金凤".split(),
}
ROADS = "人民路 建设路 解放路 中山路 文化路 新华街 商贸街 团结路".split()
CONDITIONS = ("hypertension", "diabetes", "stroke", "coronary_heart_disease", "malignant_tumour", "copd")
ALLERGIES = ("penicillin", "sulfonamide", "streptomycin")
# 生活环境 of a village in the plain: (kitchen exhaust, fuel, water, toilet, livestock pen) choices.
LIVING = (("none", "range_hood", "chimney"), ("lpg", "coal", "firewood", "biogas"), ("tap", "well"),
          ("sanitary", "pit_cesspool", "simple_shed"), ("none", "separate", "outdoor"))
# Ages of a rural county: many elderly, fewer young adults (many work in the cities).
AGE_BANDS = {(0, 6): 8, (7, 17): 12, (18, 44): 25, (45, 64): 33, (65, 92): 22}


BATCH = 500  # archives written together, with their identities and records


def residents(count, seed_value=2026):
    """Create `count` archives with a believable spread of service records, BATCH at a
    time; yields how many archives each batch made.

    Residents go to villages in proportion to their population. Each archive is checked
    and built as the archives service builds one (`check_new`, `new_document`), each
    record validated and sealed as the records service does it; a batch is then written
    with one insert per collection and one audit entry per township naming its archives.
    Numbering starts at 1 in every village: this runs on a database without archives.
    """
    rng, db, at, today = random.Random(seed_value), get_db(), clock.now(), clock.today()
    year = str(today.year)
    places = [(doc["parent"], doc["_id"], doc["name"], doc["kind"], doc.get("population", {}).get(year, 1))
              for doc in db.regions.find({"level": "village"}).sort("_id", 1)]
    custody = {village: archives.village_custody(village) for _township, village, *_rest in places}
    doctors = {region: username for username, role, region, _ in demo_users() if role == roles.VILLAGE_DOCTOR}
    layout, ring = site_layout(), keyring()
    serials: dict[str, int] = {}
    cards: set[str] = set()
    made = 0
    while made < count:
        batch = _Batch()
        while len(batch.archives) < min(BATCH, count - made):
            township, village, village_name, kind, _population = rng.choices(places, [p[4] for p in places])[0]
            seeder = User({"_id": "demo-seed", "role": roles.TOWNSHIP_STAFF, "region": township})
            plain, card, _warnings = archives.check_new(
                seeder, resident(rng, village, village_name, kind, doctors.get(village)))
            bi = card and archives.card_index(card.number)
            if bi in cards:
                continue  # the random ID card number was drawn before: draw another resident
            if bi:
                cards.add(bi)
                batch.identities.append({"_id": bi, "village": village, "at": at})
            serials[village] = serials.get(village, 0) + 1
            code = layout.format(village, serials[village])
            batch.archives.append(archives.new_document(seeder, code, custody[village], plain, bi, at))
            batch.by_township.setdefault(township, []).append(code)
            author = User({"_id": plain.get("responsible_doctor") or seeder.username, "role": roles.VILLAGE_DOCTOR,
                           "region": village})
            contents = [validate_record(form) for form in visits(rng, plain, today)]
            batch.records += [kinds.seal(ring, doc) for doc in records.new_documents(
                author, code, custody[village], contents, [str(ObjectId()) for _ in contents], at)]
        batch.write(db)
        made += len(batch.archives)
        yield len(batch.archives)
    db.archive_serials.insert_many([{"_id": village, "last": last} for village, last in serials.items()])


class _Batch:
    def __init__(self):
        self.identities, self.archives, self.records = [], [], []
        self.by_township = {}

    def write(self, db):
        for collection, docs in (("identities", self.identities), ("archives", self.archives),
                                 ("records", self.records)):
            if docs:
                db[collection].insert_many(docs)
        for township, codes in sorted(self.by_township.items()):
            seeder = User({"_id": "demo-seed", "role": roles.TOWNSHIP_STAFF, "region": township})
            record(seeder, "demo.seed", region=township, purpose="demo data", detail={"archives": codes})


def resident(rng, village, village_name, kind, doctor):
    """The fields of one made-up resident, as the archive API takes them."""
    low, high = rng.choices(list(AGE_BANDS), weights=list(AGE_BANDS.values()))[0]
    born = clock.today() - timedelta(days=rng.randint(low * 365, high * 365 + 364))
    age = age_on(born, clock.today())
    sex = rng.choice(("male", "female"))
    surname = rng.choice(SURNAMES)
    data = {
        "village_code": village, "name": surname + rng.choice(GIVEN[sex]), "sex": sex, "birth_date": born,
        "address": address(rng, village_name, kind), "past_history": {}, "key_populations": [],
        "drug_allergies": [rng.choice(ALLERGIES)] if rng.random() < 0.1 else [],
        "responsible_doctor": doctor,
    }
    if rng.random() < 0.92:  # the rest still to ask
        data["family_history"] = [{"relation": rng.choice(("father", "mother", "sibling")),
                                   "conditions": [rng.choice(CONDITIONS)]} for _ in range(rng.choice((0, 0, 1, 2)))]
    if age > 0 or rng.random() < 0.5:  # half the babies have no ID card number yet
        data["id_card"] = fake_id_card(rng, born, sex)
    if age < 18:
        father = rng.random() < 0.5
        data["guardian"] = {"name": surname + rng.choice(GIVEN["male" if father else "female"]),
                            "relation": "father" if father else "mother", "phone": phone(rng)}
    else:
        data["phone"] = phone(rng)
    diseases = []
    for flag, chance in (("hypertension", 0.35), ("diabetes", 0.12)):
        if age >= 35 and rng.random() < chance * (1 if age >= 60 else 0.4):
            diagnosed = rng.randint(max(born.year + 30, 1990), clock.today().year)
            diseases.append({"code": flag, "date": str(diagnosed)})
            data["key_populations"].append(flag)
    if diseases:
        data["past_history"] = {"diseases": diseases}
    if sex == "female" and 20 <= age <= 40 and rng.random() < 0.08:
        data["key_populations"].append("maternal")
    if rng.random() < 0.9:  # the rest of the form still to ask
        data.update(basic_information(rng, age, kind, village_name, data["address"], surname))
    return data


def basic_information(rng, age, kind, village_name, home, surname):
    """The rest of the personal basic information form, as a rural county answers it."""
    info = {
        "registered_address": home, "residence_type": "registered" if rng.random() < 0.9 else "non_registered",
        "contact": {"name": surname + rng.choice(GIVEN[rng.choice(("male", "female"))]), "phone": phone(rng)},
        "ethnicity": rng.choices(("han", "hui", "manchu"), weights=(95, 4, 1))[0],
        "blood_type": {"abo": rng.choice(("a", "b", "o", "ab")), "rh": rng.choice(("positive", "unknown"))},
        "payment_methods": ["rural_cooperative" if kind == "rural" else
                            rng.choice(("employee_insurance", "resident_insurance"))],
        "exposures": [], "hereditary_diseases": [], "disabilities": [] if rng.random() < 0.95 else ["physical"],
        "archiving_institution": f"{village_name}{'社区卫生服务站' if kind == 'urban' else '卫生室'}",
    }
    if age > 6:
        info.update(education=rng.choice(("primary", "junior_high", "senior_high", "illiterate")),
                    occupation="agriculture" if kind == "rural" and age >= 18 else rng.choice(("none", "other")),
                    marital_status="married" if age >= 25 else "unmarried",
                    work_unit="无" if kind == "rural" else f"{village_name}{rng.choice(ROADS)}商店")
    if kind == "rural":
        info["living_conditions"] = dict(zip(("kitchen_exhaust", "fuel", "water", "toilet", "livestock_pen"),
                                             (rng.choice(options) for options in LIVING), strict=True))
    return info


def address(rng, village_name, kind):
    if kind == "urban":
        return (f"{village_name}{rng.choice(ROADS)}{rng.randint(1, 200)}号"
                f"{rng.randint(1, 12)}号楼{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室")
    return f"{village_name}{rng.randint(1, 9)}组{rng.randint(1, 80)}号"


def phone(rng):
    return f"1{rng.choice('35789')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


# --- Service records -------------------------------------------------------------------

SYMPTOMS = ("none", "headache_dizziness", "palpitation_sweating", "lower_limb_edema")
COMPLAINTS = (("咳嗽, 咽痛", "上呼吸道感染"), ("腰痛", "腰肌劳损"), ("腹泻", "急性胃肠炎"), ("头晕", "高血压病"),
              ("皮疹瘙痒", "湿疹"))


def visits(rng, plain, today):
    """The record forms a few years of care leave for a resident (plain archive fields):
    yearly checkups of the elderly (this year's done for about half), a checkup for many
    adults, quarterly hypertension and diabetes follow-ups (the latest up to five months
    old, so some are overdue), child and pregnancy visits, now and then an encounter."""
    born = plain["birth_date"]
    age = age_on(born, today)
    forms = []
    if age >= 65:
        forms += [checkup(rng, _day_in(rng, today.year - back, today), age)
                  for back in range(4) if back or rng.random() < 0.5]
    elif age >= 18 and rng.random() < 0.6:
        forms.append(checkup(rng, _day_in(rng, today.year - rng.randint(0, 2), today), age))
    for population in ("hypertension", "diabetes"):
        if population in plain["key_populations"]:
            latest = today - timedelta(days=rng.randint(0, 150))
            forms += [followup(rng, population, latest - timedelta(days=91 * n)) for n in range(rng.randint(3, 6))]
    if age < 6:
        forms += [followup(rng, "child", max(born, today - timedelta(days=120 * n + rng.randint(0, 60))), born=born)
                  for n in range(rng.randint(1, 4))]
    if "maternal" in plain["key_populations"]:
        forms.append(followup(rng, "maternal", today - timedelta(days=rng.randint(0, 60))))
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        subjective, assessment = rng.choice(COMPLAINTS)
        forms.append({"kind": "encounter", "date": today - timedelta(days=rng.randint(0, 700)),
                      "subjective": subjective, "assessment": assessment})
    return [{**form, "date": form["date"].isoformat()} for form in forms]


def _day_in(rng, year, today):
    day = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
    return min(day, today)


def _pressure(rng, high):
    systolic = rng.randint(135, 175) if high else rng.randint(105, 138)
    return {"systolic": systolic, "diastolic": rng.randint(65, min(105, systolic - 25))}


def checkup(rng, day, age):
    pressure = _pressure(rng, rng.random() < (0.45 if age >= 60 else 0.2))
    abnormal = pressure["systolic"] >= 140 or pressure["diastolic"] >= 90
    height = rng.randint(150, 180)
    return {
        "kind": "checkup", "date": day,
        "general": {"temperature": round(rng.uniform(36.1, 37.2), 1), "pulse": rng.randint(60, 96),
                    "height": height, "weight": round(height - 105 + rng.uniform(-12, 15), 1),
                    "blood_pressure_left": pressure},
        "lifestyle": {"smoking": {"status": rng.choice(("never", "never", "former", "current"))}},
        "auxiliary": {"fasting_glucose": round(rng.uniform(4.2, 8.5), 1)},
        "evaluation": {"result": "abnormal", "abnormal_items": ["血压偏高"]} if abnormal else {"result": "normal"},
        "guidance": {"advice": "低盐饮食, 适量运动" if abnormal else "保持健康生活方式"},
    }


def followup(rng, population, day, born=None):
    form = {"kind": "followup", "population": population, "date": day, "method": rng.choice(("clinic", "home"))}
    if population == "hypertension":
        pressure = _pressure(rng, rng.random() < 0.3)
        controlled = pressure["systolic"] < 140 and pressure["diastolic"] < 90
        form.update(blood_pressure=pressure, symptoms=[rng.choice(SYMPTOMS)], adherence=rng.choice(
            ("regular", "regular", "intermittent")), control="satisfactory" if controlled else "unsatisfactory")
    elif population == "diabetes":
        glucose = round(rng.uniform(5.0, 11.0), 1)
        form.update(fasting_glucose=glucose, adherence=rng.choice(("regular", "intermittent")),
                    control="satisfactory" if glucose < 7.0 else "unsatisfactory")
    elif population == "child":
        months = max((day - born).days // 30, 0)
        form.update(height=round(50 + 2.2 * min(months, 12) + 0.8 * max(months - 12, 0), 1),
                    weight=round(3.3 + 0.55 * min(months, 12) + 0.18 * max(months - 12, 0), 1))
    else:  # maternal
        form.update(visit="prenatal", gestational_week=rng.randint(8, 38), blood_pressure=_pressure(rng, False))
    return form
