"""A believable demo county: townships, urban and rural villages with populations,
one user per role, and residents' archives spread over the villages."""

import random
from datetime import timedelta

from healthrec import clock
from healthrec.archives import service as archives
from healthrec.archives.rules import age_on
from healthrec.auth import roles
from healthrec.auth import service as auth
from healthrec.auth.user import User
from healthrec.db import get_db
from healthrec.errors import Conflict
from healthrec.ids import fake_id_card
from healthrec.regions import service as regions

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
    return get_db().regions.estimated_document_count() == 0


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


def residents(count, seed_value=2026):
    """Create `count` archives through the archives service, yielding each new id.

    The seeding acts as staff of each village's township; the demo village doctors are
    the responsible doctors in their villages, elsewhere that field is left to fill in.
    """
    rng = random.Random(seed_value)
    places = list(villages())
    doctors = {region: username for username, role, region, _ in demo_users() if role == roles.VILLAGE_DOCTOR}
    created = 0
    while created < count:
        township, village, village_name, kind = rng.choice(places)
        actor = User({"_id": "demo-seed", "role": roles.TOWNSHIP_STAFF, "region": township})
        try:
            archive, _warnings = archives.create_archive(
                actor, resident(rng, village, village_name, kind, doctors.get(village)))
        except Conflict:
            continue  # the random ID card number was drawn before: draw another resident
        created += 1
        yield archive["id"]


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
