"""The service's database client: durable acknowledgements, on the dev server as on MongoDB."""

import pytest
from pymongo.errors import DuplicateKeyError


def test_writes_wait_for_a_majority_and_claims_still_hold(db):
    # A replica set acknowledges a write once most members have it, so a failover cannot
    # take back a 201, and a write in flight is retried once; the dev server (one server)
    # takes the same write concern, and a claim by insert still lands once.
    assert db.client.write_concern.document == {"w": "majority"}
    assert db.client.options.retry_writes is True
    db.archive_serials.insert_one({"_id": "411423101101", "last": 16})
    with pytest.raises(DuplicateKeyError):
        db.archive_serials.insert_one({"_id": "411423101101", "last": 32})
    assert db.archive_serials.find_one({"_id": "411423101101"})["last"] == 16
