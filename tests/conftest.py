import base64
import errno
import hashlib
import io
import json
import subprocess
import sys
import textwrap
import threading
import urllib.request
from datetime import date

import pytest
import waitress
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.datastructures import Headers

from server import create_app

TOKEN = "test-token-0123456789"
HOST = "127.0.0.1:8765"


def png_bytes(width=64, height=48, color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


MHTML = (b"From: <Saved by Blink>\r\nSnapshot-Content-Location: https://www.facebook.com/trattoria.demo\r\n"
         b"Subject: Trattoria Demo\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n"
         b"\ttype=\"text/html\";\r\n\tboundary=\"----MultipartBoundary--demo----\"\r\n\r\n"
         b"------MultipartBoundary--demo----\r\nContent-Type: text/html\r\n\r\n<html><body>Demo</body></html>\r\n"
         b"------MultipartBoundary--demo------\r\n")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def make_capture(kind="offence", **overrides) -> dict:
    """A valid POST /api/captures body, as the extension sends it (invented people and text)."""
    body = {
        "kind": kind,
        "page_url": "https://www.facebook.com/trattoria.demo/posts/pfbid0Demo123",
        "permalink": "https://www.facebook.com/trattoria.demo/posts/pfbid0Demo123?comment_id=1772521800368774",
        "author": {"name": "Ottavio Inventato", "profile_url": "https://www.facebook.com/ottavio.inventato.7"},
        "text": "Il peggior ristorante della città, il cuoco è un incapace.",
        "posted_at": "2026-11-20T18:31:00+01:00",
        "posted_at_text": "20 novembre alle ore 18:31",
        "comment_html": '<div role="article" aria-label="Commento di Ottavio Inventato">…</div>',
        "screenshot": {"media_type": "image/png", "data": b64(png_bytes()),
                       "rect": {"x": 10, "y": 20, "width": 300, "height": 120}},
        "page_snapshot": {"media_type": "multipart/related", "data": b64(MHTML)},
        "context": {"captured_at_client": "2026-11-23T14:00:00.000Z", "timezone": "Europe/Rome",
                    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0", "extension_version": "0.1.0",
                    "server_ip": "157.240.0.35", "language": "it"},
    }
    if kind == "offence":
        body["offence"] = {"category": "defamation", "known_since": "2026-11-22", "notes": "Cliente mai visto."}
    else:
        body["text"] = "Cena splendida, servizio attento: torneremo presto!"
        body["testimonial"] = {"purposes": ["website", "social"], "photo": False}
    body.update(overrides)
    return body


def log_in(client, data_dir):
    """What opening the link printed by `make run` does: the client's cookie jar holds a dashboard session."""
    from server import security

    key = security.new_login_key(data_dir)
    assert client.get(f"/login?key={key}", base_url=f"http://{HOST}").status_code == 302


@pytest.fixture
def pinned_today(monkeypatch):
    """Tests with fixed dates pin "today" (Italian time) so that they keep their meaning."""
    from server.domain import schemas

    day = date(2026, 11, 23)
    monkeypatch.setattr(schemas, "today_in_italy", lambda: day)  # everything asks it through this module
    return day


@pytest.fixture
def sample_capture():
    return make_capture


@pytest.fixture
def app(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TOKEN": TOKEN, "TESTING": True})
    yield app
    app.extensions["testimone.store"].close()


@pytest.fixture
def store(app):
    return app.extensions["testimone.store"]


class LocalClient(FlaskClient):
    """Talks to the app as the extension does: own Host name and the pairing token, unless told otherwise."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", f"http://{HOST}")
        kwargs.setdefault("buffered", True)  # read whole and closed, as a server does (a feed is sent from a file)
        headers = Headers(kwargs.pop("headers", None))
        headers.setdefault("Authorization", f"Bearer {TOKEN}")
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = LocalClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def log_in(client, data_dir):
    """What opening the one-time link printed by `make run` does: a dashboard session for this client."""
    from server import security

    answer = client.get(f"/login?key={security.new_login_key(data_dir)}", base_url=f"http://{HOST}")
    assert answer.status_code == 302, answer.status_code
    return client


def tree_digest(folder) -> dict:
    """Every file under `folder` with its SHA-256: compare before and after to prove nothing changed."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def run_until_closed(server) -> None:
    """Thread target for a waitress server. Closing its socket while the loop polls it makes the poll
    fail with EBADF: expected once the server is closed. Before, EBADF means a connection that a worker
    thread closed between the loop's listing and its poll (several clients at once): poll again."""
    while True:
        try:
            server.run()
            return
        except OSError as error:
            if server.socket is None or server.socket.fileno() == -1:  # closed
                return
            if error.errno != errno.EBADF:
                raise


class LiveServer:
    def __init__(self, app, server):
        self.app, self.server = app, server
        self.port = server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = app.config["TOKEN"]
        self.data_dir = app.extensions["testimone.store"].data_dir


@pytest.fixture
def live_server(tmp_path):
    """The real app behind a real waitress server on a free loopback port."""
    target = {}
    server = waitress.create_server(lambda environ, respond: target["app"](environ, respond),
                                    host="127.0.0.1", port=0, threads=8)
    app = create_app({"DATA_DIR": str(tmp_path / "live-data"), "TOKEN": TOKEN,
                      "PORT": server.effective_port})
    target["app"] = app
    thread = threading.Thread(target=run_until_closed, args=(server,), daemon=True)
    thread.start()
    yield LiveServer(app, server)
    server.close()
    thread.join(timeout=5)
    app.extensions["testimone.store"].close()


SERVER_PROCESS = textwrap.dedent("""
    import sys, waitress
    from server import create_app
    target = {}
    server = waitress.create_server(lambda e, r: target["app"](e, r), host="127.0.0.1", port=0, threads=4)
    target["app"] = create_app({"DATA_DIR": sys.argv[1], "TOKEN": "%s", "PORT": server.effective_port})
    print(server.effective_port, flush=True)
    server.run()
""" % TOKEN)


def start_server_process(data_dir, env=None) -> tuple[subprocess.Popen, str]:
    """The app on a free loopback port in its own process (to be killed): the process and its URL."""
    child = subprocess.Popen([sys.executable, "-c", SERVER_PROCESS, str(data_dir)], stdout=subprocess.PIPE,
                             text=True, env=env)
    return child, f"http://127.0.0.1:{child.stdout.readline().strip()}"


def post_json(url, body, token=TOKEN):
    """POST /api/captures; raises HTTPError for an error answer, OSError when the server is gone."""
    request = urllib.request.Request(url + "/api/captures", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def crash(store) -> None:
    """Let go of a Store as a killed process does: its files are closed, nothing else runs (no compaction)."""
    if store._index is not None:
        store._index.close()
    store._journal.close(), store._audit.close(), store._lock_file.close()
