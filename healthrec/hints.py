"""Per-process hints: where this process last saw a sequence end (the newest entry of an
audit chain, the last archive serial of a village), so its next claim by insert starts
there instead of asking the database.

A hint is never the truth. Other service processes write too, so a claim made from a
hint may collide; the collision is the signal to read the database and move on
(docs/concurrency.md). Hints only ever move forward.
"""

import threading

from flask import current_app


class Hints:
    """The largest value seen per key, per database (tests and tools may use several)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values = {}

    def get(self, db, key):
        with self._lock:
            return self._values.get((db.name, key))

    def advance(self, db, key, value):
        with self._lock:
            known = self._values.get((db.name, key))
            if known is None or known < value:
                self._values[(db.name, key)] = value


def of(kind):
    """The current app's hints of one kind: each service process has its own."""
    return current_app.extensions.setdefault(f"healthrec.hints.{kind}", Hints())
