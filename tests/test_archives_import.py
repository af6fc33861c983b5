"""`flask archives import`: paper archives brought in with their numbers and 建档日期, all or
nothing, duplicates reported, and a second import of the same file creating nothing."""

from datetime import date, datetime

from healthrec.archives import legacy
from healthrec.auth import service as auth
from tests.factories import (
    FAR,
    LAYOUT,
    NEIGHBOUR,
    VILLAGE,
    code,
    import_file,
    legacy_row,
    make_archive,
    post_archive,
    years_ago,
)
from tests.querycheck import unsupported, watched

COLLECTIONS = ("archives", "identities", "archive_serials", "regions", "users")


def mistyped(card):
    """`card` with another check digit."""
    return card[:-1] + ("1" if card[-1] == "0" else "0")


def run_import(runner, path, by="township101"):
    return runner.invoke(args=["archives", "import", str(path), "--by", by])


def written(db):
    """What an import writes, to show that a refused one wrote none of it."""
    return {"archives": db.archives.count_documents({}), "identities": db.identities.count_documents({}),
            "serials": db.archive_serials.count_documents({}), "consents": db.consents.count_documents({})}


def test_a_file_brings_in_archives_with_their_numbers_and_dates(runner, db, client, township, tmp_path):
    rows = [legacy_row(0, serial=5), legacy_row(1, serial=17, 建档日期="2009/11/03"),
            legacy_row(2, serial=3, village=NEIGHBOUR, 性别="女", 联系电话=None)]
    result = run_import(runner, import_file(tmp_path / "档案.csv", rows))
    assert result.exit_code == 0, result.output
    assert "Imported 3 archives" in result.output

    archive = client.get(f"/api/v1/archives/{code(17)}", headers=township).get_json()
    assert archive["established_on"] == "2009-11-03"
    assert archive["name"] == rows[1]["姓名"] and archive["id_card"] == rows[1]["身份证号"]
    assert archive["village_code"] == VILLAGE and archive["created_by"] == "township101"
    # The paper form answered drug allergies (无); what the file has no column for is still to ask.
    missing = archive["completeness"]["missing"]
    assert archive["allergies"] == [] and "drug_allergies" not in missing
    assert {"family_history", "past_history", "responsible_doctor", "ethnicity", "blood_type"} <= set(missing)
    no_phone = client.get(f"/api/v1/archives/{code(3, NEIGHBOUR)}", headers=township).get_json()
    assert "phone" in no_phone["completeness"]["missing"]

    stored = db.archives.find_one({"_id": code(5)})
    assert set(stored["name"]) == {"k", "n", "c"} and set(stored["id_card"]) == {"k", "n", "c"}
    assert db.identities.count_documents({}) == 3
    assert db.audit.count_documents({"action": "archive.import", "outcome": "ok"}) == 3


def test_numbering_in_the_app_continues_after_the_highest_imported_serial(runner, db, client, township,
                                                                          doctor, tmp_path):
    make_archive(client, doctor, n=10)  # serial 1, numbered in the app before the import
    result = run_import(runner, import_file(tmp_path / "a.csv", [legacy_row(0, serial=40), legacy_row(1, serial=7)]))
    assert result.exit_code == 0, result.output
    assert make_archive(client, doctor, n=11) == code(41)


def test_importing_the_same_file_again_creates_nothing_and_says_so(runner, db, township, tmp_path):
    newborn = {"身份证号": None, "出生日期": years_ago(0, 40).isoformat(), "建档日期": years_ago(0, 10).isoformat(),
               "监护人姓名": "王建国", "监护人关系": "父亲"}
    path = import_file(tmp_path / "a.csv", [legacy_row(0), legacy_row(1), legacy_row(2, **newborn)])
    first = run_import(runner, path)
    assert first.exit_code == 0, first.output
    before, entries = written(db), db.audit.count_documents({"action": "archive.import"})

    again = run_import(runner, path)
    assert again.exit_code == 0, again.output
    assert "All 3 archives of the file are in the database already; nothing was imported." in again.output
    assert written(db) == before
    assert db.audit.count_documents({"action": "archive.import"}) == entries


def test_one_bad_row_imports_nothing_and_every_bad_line_is_named(runner, db, township, tmp_path):
    rows = [
        legacy_row(0),                                              # line 2: good
        legacy_row(1, 出生日期="1958-13-40"),                          # 3
        legacy_row(2, 身份证号=mistyped(legacy_row(2)["身份证号"])),     # 4
        legacy_row(3, 性别="未知"),                                    # 5
        legacy_row(4, 档案编号="41142310110"),                          # 6: too short
        legacy_row(5, 档案编号=code(1, "411423101199")),               # 7: no such village
        legacy_row(6, 档案编号=code(1, FAR)),                           # 8: outside the importer's township
        legacy_row(7, 建档日期="2099-01-01"),                           # 9
        legacy_row(8, 姓名=None),                                      # 10
    ]
    result = run_import(runner, import_file(tmp_path / "a.csv", rows))
    assert result.exit_code == 1
    assert "8 bad rows and 0 duplicates; nothing was imported." in result.output
    reasons = {int(line.split(":")[0].split()[1]): line for line in result.output.splitlines()
               if line.startswith("  line ")}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "出生日期" in reasons[3] and "not a real date" in reasons[3]
    assert "身份证号" in reasons[4] and "check digit" in reasons[4]
    assert "性别" in reasons[5] and "'未知' is not a sex; write one of 男、女" in reasons[5]
    assert "档案编号" in reasons[6] and f"it has {LAYOUT.length} digits" in reasons[6]
    assert "档案编号: There is no village 411423101199" in reasons[7]
    assert FAR in reasons[8] and "within your region 411423101" in reasons[8]
    assert "建档日期" in reasons[9] and "future" in reasons[9]
    assert "姓名" in reasons[10]
    assert written(db) == {"archives": 0, "identities": 0, "serials": 0, "consents": 0}
    assert db.audit.count_documents({"action": "archive.import", "outcome": "denied", "region": FAR}) == 1


def test_duplicates_are_reported_and_none_of_the_file_is_imported(runner, db, client, doctor, township, tmp_path):
    in_app = make_archive(client, doctor, n=20)  # serial 1 of VILLAGE
    rows = [
        legacy_row(0, serial=2),                                    # line 2: good
        legacy_row(1, serial=3), legacy_row(1, serial=4),           # 3, 4: one person twice
        legacy_row(2, serial=5), legacy_row(3, serial=5),           # 5, 6: one number twice
        legacy_row(20, serial=9),                                   # 7: has an archive in the app
        legacy_row(4, serial=1),                                    # 8: the app gave serial 1 to another
    ]
    before = written(db)
    result = run_import(runner, import_file(tmp_path / "a.csv", rows))
    assert result.exit_code == 1
    assert "0 bad rows and 4 duplicates; nothing was imported." in result.output
    assert "lines 3, 4: the same ID card number" in result.output
    assert f"lines 5, 6: the same archive number {code(5)}" in result.output
    assert f"line 7: this ID card already has archive {in_app}" in result.output
    assert f"line 8: archive number {code(1)} belongs to another resident's archive" in result.output
    assert "line 2" not in result.output
    assert written(db) == before


def test_a_workbook_with_date_cells_imports_and_numbers_stored_as_numbers_are_refused(runner, db, client,
                                                                                      township, tmp_path):
    good = [legacy_row(0, 出生日期=datetime(1958, 4, 12), 建档日期=datetime(2011, 3, 8), 联系电话=13912345678)]
    result = run_import(runner, import_file(tmp_path / "a.xlsx", good))
    assert result.exit_code == 0, result.output
    archive = client.get(f"/api/v1/archives/{code(1)}", headers=township).get_json()
    assert archive["established_on"] == "2011-03-08" and archive["phone"] == "13912345678"

    as_numbers = [legacy_row(1, 身份证号=int(legacy_row(1)["身份证号"][:17] + "0")),
                  legacy_row(2, 档案编号=int(code(3)))]
    result = run_import(runner, import_file(tmp_path / "b.xlsx", as_numbers))
    assert result.exit_code == 1
    assert "line 2: 身份证号: Excel stored this as a number" in result.output
    assert "line 3: 档案编号: Excel stored this as a number" in result.output
    assert db.archives.count_documents({}) == 1


def test_a_csv_saved_by_a_chinese_excel_is_read(runner, db, township, tmp_path):
    path = import_file(tmp_path / "a.csv", [legacy_row(0), legacy_row(1)], encoding="gb18030")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert db.archives.count_documents({}) == 2


def test_english_headers_and_other_date_forms_are_accepted(runner, db, township, tmp_path):
    row = legacy_row(0, 出生日期="1958年4月12日", 建档日期="20100102")
    english = dict(zip(["archive_code", "name", "sex", "birth_date", "id_card", "established_on", "phone",
                        "address", "allergies"], row.values(), strict=True))
    result = run_import(runner, import_file(tmp_path / "a.csv", [english | {"sex": "female"}]))
    assert result.exit_code == 0, result.output
    assert db.archives.find_one({"_id": code(1)})["established_on"] == "2010-01-02"


def test_a_header_row_with_unknown_or_missing_columns_is_refused(runner, db, township, tmp_path):
    row = legacy_row(0)
    row["住 址"] = row.pop("现住址")  # a typo'd header is fine: spaces do not count
    row["婚姻状况"] = "已婚"
    del row["建档日期"]
    result = run_import(runner, import_file(tmp_path / "a.csv", [row]))
    assert result.exit_code == 1
    assert "column 9 '婚姻状况' is not one the import knows" in result.output
    assert "required columns missing: 建档日期" in result.output
    assert "'住 址'" not in result.output
    assert db.archives.count_documents({}) == 0


def test_who_may_import(runner, db, login, tmp_path):
    path = import_file(tmp_path / "a.csv", [legacy_row(0)])
    login("supervisor", "411423")
    login("admin", "411423")
    login("village_doctor", NEIGHBOUR)
    refused = run_import(runner, path, by="supervisor423")
    assert refused.exit_code == 1 and "The role supervisor cannot import archives." in refused.output
    other_village = run_import(runner, path, by="village102")
    assert other_village.exit_code == 1 and f"{VILLAGE} is outside it" in other_village.output
    assert run_import(runner, path, by="nobody").exit_code == 1
    assert db.archives.count_documents({}) == 0

    admin = run_import(runner, path, by="admin423")
    assert admin.exit_code == 0, admin.output
    assert db.archives.find_one({"_id": code(1)})["created_by"] == "admin423"


def test_rows_the_database_refuses_while_writing_are_named_and_the_rest_imported(app, db, client, doctor,
                                                                                  township, tmp_path):
    path = import_file(tmp_path / "a.csv", [legacy_row(0, serial=3), legacy_row(1, serial=4)])
    with app.app_context():
        user = auth.active_user("township101")
        plan = legacy.check(user, legacy.read(path))
        make_archive(client, doctor, n=1)  # the doctor registers resident 1 meanwhile
        assert [row.line for row in legacy.write(user, plan)] == [2, 3]
    assert plan.failed == [(3, "This ID card already has archive " + code(1) + "; open that one instead.")]
    assert db.archives.find_one({"_id": code(3)}) is not None
    assert db.archives.find_one({"_id": code(4)}) is None
    assert db.identities.count_documents({}) == 2


def test_every_import_query_has_an_index(app, devdb, runner, db, client, doctor, township, tmp_path):
    make_archive(client, doctor, n=9)
    assert post_archive(client, doctor, n=9).status_code == 409
    path = import_file(tmp_path / "a.csv", [legacy_row(0, serial=5, 责任医生="village101"), legacy_row(1)])
    with watched(app, devdb) as listener:
        assert run_import(runner, path).exit_code == 0
        assert run_import(runner, path).exit_code == 0
        assert run_import(runner, import_file(tmp_path / "b.csv", [legacy_row(9, serial=8)])).exit_code == 1
        assert len(list(listener.shapes(COLLECTIONS))) > 10
        assert unsupported(listener, COLLECTIONS) == []
    assert db.archives.find_one({"_id": code(5)})["established_on"] == date(2012, 5, 20).isoformat()
