"""scripts/devdb: a second dev database on a port another server answers on refuses to
start, rather than reporting the other server as its own."""

import subprocess
from urllib.parse import urlparse

from tests.devdb import ROOT


def test_a_dev_database_refuses_a_port_another_server_answers_on(devdb, tmp_path):
    taken = urlparse(devdb.uri).port or 27017
    env = {**devdb.env, "HEALTHREC_DEVDB_PORT": str(taken), "HEALTHREC_DEVDB_DIR": str(tmp_path),
           "HEALTHREC_DEVDB_BACKEND": "sqlite"}
    env.pop("MONGO_URI", None)
    started = subprocess.run([str(ROOT / "scripts/devdb"), "start"], env=env, capture_output=True, text=True)
    assert started.returncode == 1
    assert f"another server already answers on 127.0.0.1:{taken}" in started.stderr
    assert "MONGO_URI=" not in started.stdout and not (tmp_path / "devdb.pid").exists()
