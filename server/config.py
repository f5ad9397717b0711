"""Settings: embedded defaults, overridden by TESTIMONE_* environment variables."""
import os
from pathlib import Path

import platformdirs

DEFAULTS = {
    "HOST": "127.0.0.1",
    "PORT": 8765,
    "TOKEN": None,  # None: generated on first start and kept in DATA_DIR/token
    "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
    "THREADS": 8,
    # `serve` renders PDFs in this many worker processes, admitting at most RENDER_QUEUE more renders
    # waiting (server/render/pool.py); together fewer than THREADS, so other requests always find a thread.
    "RENDER_WORKERS": 2,
    "RENDER_QUEUE": 4,
}

# Environment variables read as text even when they look like JSON (a token "123" stays a string).
TEXT_SETTINGS = ("DATA_DIR", "HOST", "TOKEN")


def from_environment(environ=os.environ) -> dict:
    settings = {"DATA_DIR": platformdirs.user_data_dir("testimone", appauthor=False)}
    for key, value in environ.items():
        if not key.startswith("TESTIMONE_"):
            continue
        name = key.removeprefix("TESTIMONE_")
        if name in ("PORT", "MAX_CONTENT_LENGTH", "THREADS", "RENDER_WORKERS", "RENDER_QUEUE"):
            try:
                settings[name] = int(value)
            except ValueError:
                raise SystemExit(f"{key} must be a whole number, not {value!r}") from None
        elif name in TEXT_SETTINGS or name.isupper():
            settings[name] = value
    return settings


def data_dir(config) -> Path:
    return Path(config["DATA_DIR"]).expanduser()
