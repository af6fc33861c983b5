"""Every query the archive services send has an index MongoDB can use. FerretDB scans
whole collections anyway, so the check is on the query shapes, as the driver sends them."""


from healthrec.archives import locks
from healthrec.clock import today
from tests.factories import VILLAGE, if_match, post_archive
from tests.querycheck import unsupported, watched

COLLECTIONS = ("archives", "identities", "archive_versions", "archive_serials")


def test_every_archive_query_has_an_index(app, devdb, client, doctor, township):
    with watched(app, devdb) as listener:
        created = post_archive(client, doctor)
        archive_id = created.get_json()["id"]
        post_archive(client, doctor, n=1)
        assert post_archive(client, doctor).status_code == 409
        client.get(f"/api/v1/archives/{archive_id}", headers=doctor)
        client.patch(f"/api/v1/archives/{archive_id}", json={"phone": "13800002222"},
                     headers=if_match(doctor, created))
        for query in ({"name": "李秀英"}, {"id_card": created.get_json()["id_card"]}, {"status": "open"},
                      {"review": "none"}, {"review": "qualified"}, {"village": VILLAGE}, {},
                      {"key_population": "hypertension"}, {"key_population": "elderly", "status": "open"}):
            assert client.post("/api/v1/archives/search", json=query, headers=township).status_code == 200
        client.post(f"/api/v1/archives/{archive_id}/review", json={"verdict": "qualified"}, headers=township)
        client.post(f"/api/v1/archives/{archive_id}/close",
                    json={"reason": "moved_away", "date": today().isoformat()}, headers=doctor)
        assert len(list(listener.shapes(COLLECTIONS))) > 15
        assert unsupported(listener, COLLECTIONS) == []

        # Reconcile walks whole collections on purpose; its other queries need indexes too.
        listener.seen.clear()
        with app.app_context():
            locks.reconcile()
        assert unsupported(listener, COLLECTIONS) == []
