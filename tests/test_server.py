"""The real command, as a user starts it: `testimone serve` (waitress) on loopback."""
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import make_capture


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url, token=None, body=None, host=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if host:
        headers["Host"] = host
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def answers_health(url: str, seconds=20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if call(url + "/api/health")[0] == 200:
                return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {**os.environ, "TESTIMONE_DATA_DIR": str(tmp_path / "data"), "TESTIMONE_PORT": str(port),
           "TESTIMONE_TSA_URL": "", "TESTIMONE_WITNESS": "0"}  # tests never reach the internet
    env.pop("TESTIMONE_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    if not answers_health(url):
        process.kill()
        pytest.fail("server did not answer health: " + process.communicate()[0])
    yield url, env, tmp_path / "data"
    process.terminate()
    output = process.communicate(timeout=10)[0]
    assert "Traceback" not in output, output
    assert (tmp_path / "data" / "stopped").exists()  # SIGTERM is a clean stop: the store was closed
    assert (tmp_path / "data" / "journal.jsonl").stat().st_size == 0


def test_serve_stores_a_capture_and_keeps_the_token_private(served):
    url, env, data_dir = served
    token_file = data_dir / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    token = subprocess.run([sys.executable, "-m", "server", "token"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert token == token_file.read_text().strip() and len(token) >= 40

    assert call(url + "/api/captures")[0] == 401
    assert call(url + "/api/captures", token="wrong")[0] == 401
    status, created = call(url + "/api/captures", token=token, body=make_capture("testimonial"))
    assert status == 201
    status, case = call(url + created["links"]["self"], token=token)
    assert status == 200 and case["id"] == created["id"]
    assert call(url + "/api/health", host="attacker.example:80")[0] == 403


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, read from the kernel (Linux /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc/net/tcp")
def test_serve_listens_on_loopback_only(served):
    url, _, _ = served
    assert listening_addresses(int(url.rsplit(":", 1)[1])) == {"0100007F"}  # 127.0.0.1, little-endian hex
