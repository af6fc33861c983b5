"""WSGI entry point: `gunicorn app:app` (production) or `flask --app app run`."""

import sys

from healthrec import create_app
from healthrec.crypto import KeyRingError
from healthrec.keys.service import DatabaseUnavailable
from healthrec.settings import SettingsError

# The messages say what to fix; a traceback would bury them.
try:
    app = create_app()
except DatabaseUnavailable as error:
    # Perhaps a passing outage: status 1 lets gunicorn boot the worker again.
    sys.exit(f"healthrec cannot start yet: {error}")
except (SettingsError, KeyRingError) as error:
    # Only the operator can fix these. Status 4 is gunicorn's "app failed to load": it
    # stops rather than restart workers that can never start.
    print(f"healthrec cannot start: {error}", file=sys.stderr)
    sys.exit(4)
