"""Localhost only: Host-header check (DNS rebinding), pairing token, CORS for the extension only."""
import hmac
import os
import secrets
from pathlib import Path

from flask import request
from flask_cors import CORS

from .errors import ApiError

EXTENSION_ORIGINS = [r"^chrome-extension://[a-z]{32}$", r"^moz-extension://[0-9a-f-]{36}$"]


def pairing_token(config, data_dir: Path) -> str:
    """The configured token, else the one kept in DATA_DIR/token (created on first start, mode 0600)."""
    if config.get("TOKEN"):
        return str(config["TOKEN"])
    path = data_dir / "token"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return token


def allowed_hosts(config) -> set[str]:
    port = config["PORT"]
    names = {"127.0.0.1", "localhost", "[::1]", config["HOST"]}
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return hosts


def check_host() -> None:
    from flask import current_app

    if request.host.lower() not in current_app.config["ALLOWED_HOSTS"]:
        raise ApiError(403, "host_not_allowed",
                       "This server answers only to its own address (e.g. 127.0.0.1:8765).", "Host")


def check_token(token: str) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "unauthorized",
                       "Missing or wrong pairing token: send 'Authorization: Bearer <token>' "
                       "(the token is printed by 'testimone token').", "Authorization")


def init_app(app) -> None:
    app.config["ALLOWED_HOSTS"] = allowed_hosts(app.config)
    app.before_request(check_host)
    CORS(app, resources={r"/api/*": {"origins": EXTENSION_ORIGINS}},
         allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.after_request(_security_headers)


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
