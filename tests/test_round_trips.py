"""What one request costs in database round trips, counted as the driver sends them, in a
service process that has served requests before (its hints and regions are warm).

Targets: creating an archive ≤ 4, reading one ≤ 3, any list page ≤ 4 however long the
list, and nothing that grows with the number of items shown. Two lists take 5, as both
are audited: the access requests, two queries merged (the caller's own and those they
decide), and the audit trail, which first asks which townships were merged into the
caller's. Adding records takes 5 (6
with an Idempotency-Key, whose claim is a write of its own): after writing them it reads
the archive's custody again, so records written while a transfer moves the archive follow
it (archives.follow_custody)."""

import pytest

from tests.factories import (
    COUNTY,
    NEIGHBOUR,
    TOWNSHIP,
    URBAN,
    VILLAGE,
    checkup,
    days_ago,
    file_request,
    hypertension,
    make_archive,
    make_record,
    post_archive,
    post_record,
    record_body,
    years_ago,
)
from tests.querycheck import watched

# A service process keeps the regions it read (regions.cache), as in production.
pytestmark = pytest.mark.parametrize("app", [{"REGIONS_CACHE_SECONDS": 60}], indirect=True)


@pytest.fixture
def sent(app, devdb):
    """sent(call): the database commands `call` (one request) sends, by name, after
    checking it succeeded."""
    def commands(call):
        with watched(app, devdb) as listener:
            response = call()
        assert response.status_code < 300, response.get_json()
        # An audit chain's head moves once every chain.HEAD_EVERY entries, in whichever
        # request writes the entry that starts a block: a sixteenth of a write each, not
        # a cost of the request that happens to carry it.
        return [name for name, command in listener.seen if command.get(name) != "audit_heads"]
    return commands


def test_creating_an_archive_takes_five_and_seven_with_an_idempotency_key(client, doctor, sent):
    post_archive(client, doctor)  # the first in the village learns where numbering stands
    # The token, the ID card's claim, the archive (numbered from the process's hint) carrying
    # its audit entry, the entry, clearing the archive's mark.
    assert sent(lambda: post_archive(client, doctor, n=1)) == ["find", "insert", "insert", "insert", "update"]
    # And the key's claim, then naming the archive in it.
    with_key = sent(lambda: post_archive(client, doctor, n=2, key="new-2"))
    assert with_key == ["find", "insert", "insert", "insert", "update", "insert", "update"]


def test_reading_an_archive_takes_three(client, doctor, archive_id, sent):
    assert sent(lambda: client.get(f"/api/v1/archives/{archive_id}", headers=doctor)) == ["find", "find", "insert"]


def test_adding_a_record_takes_six_and_seven_with_an_idempotency_key(client, doctor, archive_id, sent):
    # The token, the archive, the records carrying their audit entry, the entry, clearing
    # the records' mark, the archive's custody again.
    plain = sent(lambda: post_record(client, doctor, archive_id, checkup()))
    assert plain == ["find", "find", "insert", "insert", "update", "find"]
    with_key = sent(lambda: post_record(client, doctor, archive_id, checkup(), key="visit-1"))
    assert with_key == ["find", "find", "insert", "insert", "insert", "update", "find"]
    # A batch of forms costs what one form costs.
    batch = {"records": [checkup(), hypertension(days_ago(1))]}
    assert len(sent(lambda: client.post(f"/api/v1/archives/{archive_id}/records/batch", json=batch,
                                        headers=doctor))) == 6


def test_a_list_page_takes_at_most_four_however_long_the_list(app, client, doctor, township, login, sent):
    archives = [make_archive(client, doctor, n) for n in range(5)]
    for n in range(5):
        make_record(client, doctor, archives[0], hypertension(days_ago(n + 1)))
    sent_to_township = record_body("referral", to_region=TOWNSHIP)
    for archive_id in archives:
        make_record(client, doctor, archive_id, sent_to_township)
    supervisor, urban = login("supervisor", COUNTY), login("village_doctor", URBAN, "urban")
    app.config["BREAK_GLASS_PER_DAY"] = len(archives)
    for archive_id in archives:
        file_request(client, supervisor, archive_id)
        opened = client.post(f"/api/v1/archives/{archive_id}/break-glass", json={"reason": "急诊昏迷"},
                             headers=urban)
        assert opened.status_code == 201

    lists = {
        "archives": ("/api/v1/archives", township, {"village": VILLAGE}),
        "timeline": (f"/api/v1/archives/{archives[0]}/records", doctor, {}),
        "referrals": ("/api/v1/referrals/incoming", township, {}),
        "access requests": ("/api/v1/access-requests", township, {}),
        "audit": ("/api/v1/audit", township, {}),
        "break-glass": ("/api/v1/break-glass", township, {}),
    }
    for name, (url, headers, query) in lists.items():
        # A page of two out of more (the total needs a count), and every item on one page.
        short = sent(lambda u=url, h=headers, q=query: client.get(u, query_string={**q, "per_page": 2}, headers=h))
        whole = sent(lambda u=url, h=headers, q=query: client.get(u, query_string={**q, "per_page": 200}, headers=h))
        assert len(short) <= (5 if name in ("access requests", "audit") else 4) and len(whole) <= len(short), (
            name, short, whole)


def test_the_due_list_takes_five_however_many_are_due(client, doctor, login, sent):
    for n in range(6):
        make_archive(client, doctor, n, born=years_ago(70, days=n))
    make_archive(client, login("village_doctor", NEIGHBOUR), 9, village_code=NEIGHBOUR)
    due = sent(lambda: client.get("/api/v1/followups/due", query_string={"village": VILLAGE}, headers=doctor))
    # The token, the village's records, urgent cases and open archives, the audit entry.
    assert due == ["find", "find", "find", "find", "insert"]
