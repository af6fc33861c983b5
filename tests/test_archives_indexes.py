"""Every query the archive services send has an index MongoDB can use. FerretDB scans
whole collections anyway, so the check is on the query shapes, as the driver sends them."""

from datetime import date

from pymongo import MongoClient, monitoring

from healthrec.archives import claims
from healthrec.db import INDEXES
from tests.test_archives import TOWNSHIP, VILLAGE, create, if_match

COLLECTIONS = ("archives", "identities", "archive_versions", "archive_serials")


class QueryShapes(monitoring.CommandListener):
    """Collects (collection, filter) of every read, update and delete sent."""

    def __init__(self):
        self.seen = []

    def started(self, event):
        command, name = event.command, event.command_name
        collection = command.get(name)
        if collection not in COLLECTIONS:
            return
        if name == "find":
            filters = [command.get("filter", {})]
        elif name == "aggregate":  # count_documents
            filters = [stage["$match"] for stage in command["pipeline"] if "$match" in stage]
        elif name == "update":
            filters = [update["q"] for update in command["updates"]]
        elif name == "delete":
            filters = [delete["q"] for delete in command["deletes"]]
        else:
            return
        self.seen.extend((collection, query) for query in filters)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def unsupported(seen):
    """The shapes no declared index (or `_id`) can serve: a field compared for equality
    must lead an index; a query of ranges only needs one of its fields to lead one."""
    missing = set()
    for collection, query in seen:
        leading = {keys[0][0] for keys, _options in INDEXES.get(collection, [])} | {"_id"}
        equal = {field for field, value in query.items()
                 if not (isinstance(value, dict) and any(key.startswith("$") for key in value))}
        if not (equal or set(query)) & leading:
            missing.add((collection, tuple(sorted(query))))
    return missing


def test_every_archive_query_has_an_index(app, devdb, client, login):
    shapes = QueryShapes()
    monitored = MongoClient(devdb.uri, event_listeners=[shapes], tz_aware=True)
    name = app.extensions["healthrec.db"].name
    app.extensions["healthrec.db"] = monitored[name]
    try:
        doctor, staff = login("village_doctor", VILLAGE), login("township_staff", TOWNSHIP)
        created = create(client, doctor)
        archive_id = created.get_json()["id"]
        create(client, doctor, n=1)
        assert create(client, doctor).status_code == 409
        client.get(f"/api/v1/archives/{archive_id}", headers=doctor)
        client.patch(f"/api/v1/archives/{archive_id}", json={"phone": "13800002222"},
                     headers=if_match(doctor, created))
        for query in ({"name": "李秀英"}, {"id_card": created.get_json()["id_card"]}, {"status": "open"},
                      {"review": "none"}, {"review": "qualified"}, {"village": VILLAGE}, {}):
            assert client.get("/api/v1/archives", query_string=query, headers=staff).status_code == 200
        client.post(f"/api/v1/archives/{archive_id}/review", json={"verdict": "qualified"}, headers=staff)
        client.post(f"/api/v1/archives/{archive_id}/close",
                    json={"reason": "moved_away", "date": date.today().isoformat()}, headers=doctor)
        assert len(shapes.seen) > 20
        assert unsupported(shapes.seen) == set()

        # Reconcile walks whole collections on purpose; its other queries need indexes too.
        shapes.seen.clear()
        with app.app_context():
            claims.reconcile()
        assert unsupported([(c, q) for c, q in shapes.seen if q]) == set()
    finally:
        monitored.close()
