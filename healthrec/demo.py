"""A believable demo county: townships, urban and rural villages with populations,
one user per role, and (once archives exist) residents."""

import random
from datetime import date

from healthrec.auth import roles
from healthrec.auth import service as auth
from healthrec.db import get_db
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


def region_rows(rng):
    """CSV rows code,name,population,year for this year and last."""
    county, name = COUNTY
    this_year = date.today().year
    rows = [f"{county},{name},,"]
    for segment, town, kind, villages in TOWNSHIPS:
        township = county + segment
        rows.append(f"{township},{town},,")
        first = 1 if kind == "urban" else 101
        for offset, village in enumerate(villages):
            code = f"{township}{first + offset:03d}"
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
