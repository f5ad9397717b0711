"""Who may see what (issue #10 item 14, #12 item 11): the dashboard needs a session opened by a one-time
login link; /connect shows the token only inside one; pairing hands the token to the approved extension
only; binding beyond loopback needs an opt-in; another OS user on the computer gets nothing."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import HOST, TOKEN, make_capture
from server import security
from test_server import answers_health, call, free_port

CHROME = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def page(client, path, **kwargs):
    return client.get(path, base_url=f"http://{HOST}", **kwargs)


@pytest.fixture
def browser(app):
    return app.test_client()


def test_every_dashboard_page_needs_a_session(app, browser, client):
    case_id = client.post("/api/captures", json=make_capture()).json["id"]
    for path in ["/", f"/cases/{case_id}", f"/cases/{case_id}/evidence/screenshot.png", "/connect", "/settings",
                 "/integrity", "/calendar.ics", f"/cases/{case_id}/files/document.pdf", "/authors?profile_url=x",
                 f"/pair?extension={CHROME}"]:
        answer = page(browser, path)
        assert answer.status_code == 401, path
        html = answer.get_data(as_text=True)
        assert TOKEN not in html and "Ottavio" not in html and "login-url" in html, path
        assert "Set-Cookie" not in answer.headers, path  # a logged-out visit never touches the session


def test_a_login_link_works_once_and_sets_a_strict_httponly_cookie(app, browser, store):
    key = security.new_login_key(store.data_dir)
    assert not list((store.data_dir / "login").glob(key))  # only its hash is kept
    opened = page(browser, f"/login?key={key}")
    assert opened.status_code == 302
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "testimone_session=" in cookie
    assert TOKEN in page(browser, "/connect").get_data(as_text=True)
    again = page(app.test_client(), f"/login?key={key}")
    assert again.status_code == 403 and "già stato usato" in again.get_data(as_text=True)
    assert page(app.test_client(), "/login?key=guessed").status_code == 403


def test_an_old_login_link_has_expired(browser, store):
    key = security.new_login_key(store.data_dir)
    path = store.data_dir / "login" / security._digest(key)
    old = time.time() - security.LOGIN_LINK_HOURS * 3600 - 1
    os.utime(path, (old, old))
    assert page(browser, f"/login?key={key}").status_code == 403


def test_logout_ends_the_session(browser, store):
    page(browser, f"/login?key={security.new_login_key(store.data_dir)}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page(browser, "/connect").get_data(as_text=True)).group(1)
    assert browser.post("/logout", base_url=f"http://{HOST}", data={"csrf_token": csrf}).status_code == 200
    assert page(browser, "/connect").status_code == 401


def test_first_login_opens_on_the_short_profile_form(browser, store):
    first = page(browser, f"/login?key={security.new_login_key(store.data_dir)}")
    assert first.headers["Location"] == "/settings?welcome=1"
    form = page(browser, "/settings?welcome=1").get_data(as_text=True)
    assert "Benvenuto" in form and 'name="pec"' in form and 'name="phone"' not in form  # required fields only
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert "è incompleto" in page(browser, "/").get_data(as_text=True)
    saved = browser.post("/settings", base_url=f"http://{HOST}", data={
        "csrf_token": csrf, "welcome": "1", "business_name": "Trattoria Demo", "address": "Via Roma 1, Roma",
        "vat_number": "IT01234567890", "email": "info@trattoria.example", "pec": "trattoria@pec.example",
        "signatory_name": "Maria Esempio", "default_language": "it"})
    assert saved.headers["Location"] == "/"
    assert store.get_setting("profile")["pec"] == "trattoria@pec.example"
    assert "incompleto" not in page(browser, "/").get_data(as_text=True)
    later = page(browser.application.test_client(), "/")  # a new browser logs in to the cases now
    assert later.status_code == 401
    second = browser.application.test_client()
    assert page(second, f"/login?key={security.new_login_key(store.data_dir)}").headers["Location"] == "/"


def test_pairing_hands_a_one_time_code_to_the_approved_extension_only(app, browser, client, store):
    page(browser, f"/login?key={security.new_login_key(store.data_dir)}")
    assert page(browser, "/pair?extension=https://evil.example").status_code == 400
    approval = page(browser, f"/pair?extension={CHROME}")
    html = approval.get_data(as_text=True)
    assert CHROME in html and TOKEN not in html
    assert f"form-action 'self' {CHROME}" in approval.headers["Content-Security-Policy"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    approved = browser.post("/pair", base_url=f"http://{HOST}", data={"csrf_token": csrf, "extension": CHROME})
    assert approved.status_code == 303
    target = urlsplit(approved.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == CHROME and target.path == "/options/options.html"
    fragment = parse_qs(target.fragment)
    code = fragment["pairing-code"][0]
    assert fragment["server"] == [f"http://{HOST}"] and TOKEN not in approved.headers["Location"]

    anonymous = app.test_client()  # the extension has no token yet
    other = "moz-extension://0b1f3c3e-4d7a-4c1b-9a57-2f2d7a1b5e0c"
    wrong_origin = anonymous.post("/api/pair", base_url=f"http://{HOST}", json={"code": code}, headers={"Origin": other})
    assert wrong_origin.status_code == 403  # and the code is spent
    assert anonymous.post("/api/pair", base_url=f"http://{HOST}", json={"code": code},
                          headers={"Origin": CHROME}).status_code == 403
    code = security.PairingCodes.issue(app.extensions["testimone.pairing_codes"], CHROME)
    paired = anonymous.post("/api/pair", base_url=f"http://{HOST}", json={"code": code}, headers={"Origin": CHROME})
    assert paired.status_code == 200 and paired.json["token"] == TOKEN
    assert store.get_setting("paired_extension")["origin"] == CHROME
    assert anonymous.post("/api/pair", base_url=f"http://{HOST}", json={"code": code},
                          headers={"Origin": CHROME}).status_code == 403  # once only


def test_pairing_with_a_pasted_token_checks_it(app):
    anonymous = app.test_client()
    refused = anonymous.post("/api/pair", base_url=f"http://{HOST}", headers={"Origin": CHROME,
                                                                          "Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    accepted = anonymous.post("/api/pair", base_url=f"http://{HOST}", headers={"Origin": CHROME,
                                                                           "Authorization": f"Bearer {TOKEN}"})
    assert accepted.status_code == 200 and "token" not in accepted.json
    no_origin = anonymous.post("/api/pair", base_url=f"http://{HOST}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert no_origin.status_code == 400 and no_origin.json["error"]["field"] == "Origin"


@pytest.mark.parametrize("host,allow,refused", [("127.0.0.1", None, False), ("0.0.0.0", None, True),
                                                ("192.168.1.20", "0", True), ("0.0.0.0", "1", False)])
def test_listening_beyond_loopback_needs_an_opt_in(host, allow, refused):
    config = {"HOST": host, "ALLOW_REMOTE": allow}
    assert bool(security.remote_binding_refused(config)) == refused


def test_serve_refuses_a_network_address_without_the_opt_in(tmp_path):
    env = {**os.environ, "TESTIMONE_DATA_DIR": str(tmp_path / "data"), "TESTIMONE_HOST": "0.0.0.0",
           "TESTIMONE_PORT": str(free_port())}
    env.pop("TESTIMONE_ALLOW_REMOTE", None)
    result = subprocess.run([sys.executable, "-m", "server", "serve"], env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0 and "TESTIMONE_ALLOW_REMOTE=1" in result.stderr


# -- another OS user on the same computer -------------------------------------------------------------

ATTACKER = r'''
import json, os, sys, urllib.request, urllib.error
url, data_dir, case_id = sys.argv[1:4]
seen = {}
def get(path, headers=None, data=None):
    request = urllib.request.Request(url + path, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
for path in ["/connect", "/", "/cases/" + case_id, "/api/captures", "/api/captures/" + case_id,
             "/api/captures?token=", "/login?key=x", "/settings", "/calendar.ics", "/api/deadlines.ics"]:
    seen[path] = get(path)
seen["pair"] = get("/api/pair", {"Origin": "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
                                 "Content-Type": "application/json"}, b"{}")
seen["lan host"] = get("/connect", {"Host": "192.168.1.20:" + url.rsplit(":", 1)[1]})
files = {}
for root in [data_dir]:
    try:
        files[root] = os.listdir(root)
    except OSError as error:
        files[root] = type(error).__name__
for name in ["token", "testimone.json", "audit.log", "cases/" + case_id + "/capture.json"]:
    try:
        files[name] = open(os.path.join(data_dir, name)).read()
    except OSError as error:
        files[name] = type(error).__name__
print(json.dumps({"http": seen, "files": files, "uid": os.getuid()}))
'''


@pytest.fixture
def shared_data_dir():
    """A data folder whose parent every user may enter (as a home folder often is): only the data folder's
    own permissions keep other users out."""
    parent = Path(tempfile.mkdtemp(prefix="testimone-shared-"))
    parent.chmod(0o755)
    yield parent / "data"
    shutil.rmtree(parent)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to act as 'nobody'")
def test_another_os_user_gets_no_token_and_no_data(shared_data_dir):
    port = free_port()
    env = {**os.environ, "TESTIMONE_DATA_DIR": str(shared_data_dir), "TESTIMONE_PORT": str(port),
           "TESTIMONE_TSA_URL": "", "TESTIMONE_WITNESS": "0"}
    env.pop("TESTIMONE_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        printed = ""
        while "/login?key=" not in printed:  # the owner's terminal shows the one-time link
            line = server.stdout.readline()
            assert line, printed
            printed += line
        assert answers_health(url)
        token = (shared_data_dir / "token").read_text().strip()
        status, created = call(url + "/api/captures", token=token, body=make_capture())
        assert status == 201
        system_python = shutil.which("python3", path="/usr/bin:/bin")
        result = subprocess.run(["runuser", "-u", "nobody", "--", system_python, "-c", ATTACKER, url,
                                 str(shared_data_dir), created["id"]], capture_output=True, text=True, timeout=60)
        report = json.loads(result.stdout)
        assert report["uid"] != 0
        everything = json.dumps(report)
        assert token not in everything and "Ottavio" not in everything and "incapace" not in everything
        assert all(status in (401, 403) for status, _ in report["http"].values()), report["http"]
        assert all(value == "PermissionError" for value in report["files"].values()), report["files"]
    finally:
        server.terminate()
        server.communicate(timeout=10)
