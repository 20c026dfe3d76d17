"""Flask extensions, created unbound and bound to an app in the factory (``db`` is made in ``core/db.py``)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from shopapp.core.db import compare_type, db

__all__ = ["csrf", "db", "limiter", "login_manager", "migrate"]
migrate = Migrate(render_as_batch=True, compare_type=compare_type)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
