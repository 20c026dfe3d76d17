"""The WSGI entry point: ``gunicorn wsgi:app``, and the app of ``flask`` commands (``FLASK_APP=wsgi``)."""

import sys

from shopapp import create_app
from shopapp.config import ConfigError

# gunicorn's exit status for "App failed to load": its master then stops instead of restarting the worker.
APP_LOAD_ERROR = 4

try:
    app = create_app()
except ConfigError as error:
    # A mistake in the environment (README, Configuration) is said in one line, not a traceback.
    print(f"Error: {error}", file=sys.stderr)
    raise SystemExit(APP_LOAD_ERROR) from None
