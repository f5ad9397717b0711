"""Pairing as a person does it, in Chromium with the real extension and server: log in with the one-time
link, press Connect in the options, allow the extension in the dashboard; the options page receives a
one-time code and trades it for the token. Reading the token off the dashboard without a session, as
earlier versions of the extension did, no longer works."""
import json
import re
import urllib.request

from playwright.sync_api import expect

from server import security

from .conftest import wait_until


def test_connect_pairs_through_the_logged_in_dashboard(browser, testimone):
    browser.storage({"token": ""})
    extension_origin = f"chrome-extension://{browser.extension_id}"
    dashboard = browser.open(f"{testimone.url}/login?key={security.new_login_key(testimone.data_dir)}")
    dashboard.get_by_role("heading", name=re.compile("Benvenuto")).wait_for()

    options = browser.extension_page("options/options.html")
    options.locator("html[data-ready=true]").wait_for(state="attached")
    with browser.context.expect_page() as opened:
        options.get_by_role("button", name="Collega").click()
    approval = opened.value
    approval.wait_for_load_state()
    assert approval.url == f"{testimone.url}/pair?extension={extension_origin.replace(':', '%3A').replace('/', '%2F')}"
    expect(options.locator("#message")).to_contain_text("Consenti e abbina")
    approval.get_by_role("button", name="Consenti e abbina").click()

    # The dashboard's answer sends this tab to the extension's options page with the one-time code.
    approval.wait_for_url(f"{extension_origin}/options/options.html", timeout=15000)
    expect(approval.locator("#message")).to_have_text(re.compile("^Abbinata a Testimone"))
    assert "pairing-code" not in approval.url  # dropped from the address once used
    assert wait_until(lambda: browser.storage().get("token")) == testimone.token
    paired = testimone.app.extensions["testimone.store"].get_setting("paired_extension")
    assert paired["origin"] == extension_origin

    # The paired extension is served; the old way of reading the token gets the login page.
    script = """async ([url, token]) => {
        const list = await fetch(url + '/api/captures', {headers: {Authorization: 'Bearer ' + token}, credentials: 'omit'});
        const connect = await fetch(url + '/connect', {credentials: 'omit'});
        return [list.status, connect.status, await connect.text()];
    }"""
    listed, connect_status, connect_page = browser.worker.evaluate(script, [testimone.url, testimone.token])
    assert listed == 200 and connect_status == 401 and testimone.token not in connect_page


def test_a_pasted_wrong_token_is_refused_in_words(browser, testimone):
    browser.storage({"token": ""})
    options = browser.extension_page("options/options.html")
    options.locator("html[data-ready=true]").wait_for(state="attached")
    options.locator("#paste summary").click()
    options.locator("#token").fill("not-the-token")
    options.get_by_role("button", name="Salva").click()
    expect(options.locator("#message")).to_contain_text("ha rifiutato questo codice")
    assert browser.storage()["token"] == ""
    options.locator("#token").fill(testimone.token)
    options.get_by_role("button", name="Salva").click()
    expect(options.locator("#message")).to_have_text(re.compile("^Abbinata a Testimone"))
    assert browser.storage()["token"] == testimone.token


def test_the_popup_leads_to_the_business_profile_until_it_is_complete(browser, testimone):
    popup = browser.extension_page("popup/popup.html")
    link = popup.locator("#profile-link")
    expect(link).to_have_text("Completa il profilo dell'attività")
    assert link.get_attribute("href") == f"{testimone.url}/settings?welcome=1"
    profile = {"business_name": "Trattoria Demo", "address": "Via Roma 1, Roma", "vat_number": "IT01234567890",
               "email": "info@trattoria.example", "pec": "trattoria@pec.example", "signatory_name": "Maria Esempio",
               "default_language": "it"}
    request = urllib.request.Request(f"{testimone.url}/api/profile", data=json.dumps(profile).encode(), method="PUT",
                                     headers={"Authorization": f"Bearer {testimone.token}",
                                              "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    popup.reload()
    expect(popup.locator("#server-state")).to_have_class("ok")
    expect(popup.locator("#profile")).to_be_hidden()
