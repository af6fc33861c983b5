"""The dev database a test session runs on: FerretDB (on PostgreSQL or SQLite) started
through scripts/devdb, or the server MONGO_URI names."""

import os
import socket
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevDB:
    """The server tests run on; tests may stop and start it (readiness)."""

    def __init__(self):
        self.env = dict(os.environ)
        self.external = bool(os.environ.get("MONGO_URI"))
        # What FerretDB stores into; scripts/devdb has the same default.
        self.backend = self.env.get("HEALTHREC_DEVDB_BACKEND") or "postgresql"
        self.own_dir = None
        if not self.external:
            # scripts/test names the port and folder; a bare `pytest` picks its own.
            self.env.setdefault("HEALTHREC_DEVDB_PORT", str(free_port()))
            if "HEALTHREC_DEVDB_DIR" not in self.env:
                self.own_dir = tempfile.mkdtemp(prefix="healthrec-test-", dir="/dev/shm")
                self.env["HEALTHREC_DEVDB_DIR"] = self.own_dir
        self.uri = None

    def run(self, action, *args):
        result = subprocess.run([str(ROOT / "scripts/devdb"), action, *args], env=self.env,
                                capture_output=True, text=True, check=True)
        return result.stdout

    def start(self):
        out = self.run("start")
        self.uri = out.strip().splitlines()[-1].split("=", 1)[1]

    def stop(self):
        self.run("stop")
