"""Testimone: a localhost server that turns captured reviews into consented testimonials or evidence."""
from importlib.metadata import PackageNotFoundError, version

from flask import Flask

from . import config, security
from .store import Store

try:
    __version__ = version("testimone")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


def create_app(test_config=None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        app.config.from_mapping(config.from_environment())
    else:
        app.config.from_mapping(test_config)

    from .services.cases import initial_state

    store = Store(config.data_dir(app.config), initial_state=initial_state)
    app.extensions["testimone.store"] = store
    app.config["TOKEN"] = security.pairing_token(app.config, store.data_dir)

    security.init_app(app)
    from .services.idempotency import Deliveries

    app.extensions["testimone.deliveries"] = Deliveries(store)
    from .api import bp as api_bp

    app.register_blueprint(api_bp)
    from .dashboard import bp as dashboard_bp

    app.register_blueprint(dashboard_bp)

    from .services import background
    from .trust import signing

    signing.init_app(app, explicit_config=test_config is not None)
    background.init_app(app, explicit_config=test_config is not None)  # background: clock, witness, RFC 3161
    return app
