"""The document registry is the only place a document type is declared: one registered here, and nowhere
else, has its API route, its OpenAPI entry, its dashboard button, its place in the bundle and its samples."""
import io
import re
import subprocess
import zipfile

import pytest
from click.testing import CliRunner
from markupsafe import escape

from conftest import HOST, TOKEN, log_in, make_capture
from server import create_app, i18n
from server.cli import main
from server.render import document_types, samples

# A thank-you letter for a testimonial's author: a template and strings that already exist, reused (its button
# shows the consent request's title).
THANKS = document_types.DocumentType(
    "thank_you_letter", kinds=("testimonial",), path="thank-you.pdf", file_stem="thank-you",
    summary="A thank-you letter for the author", in_bundle=True, template="consent_request.html", label="title",
    catalogue="consent_request", samples=lambda: [("thank_you_letter", samples.testimonial())])


@pytest.fixture
def registered(tmp_path):
    document_types.register(THANKS)
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "TOKEN": TOKEN, "TESTING": True})
    yield app
    app.extensions["testimone.store"].close()
    del document_types.TYPES[THANKS.name]


def test_a_document_registered_alone_is_everywhere(registered, tmp_path):
    client = registered.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def get(path, **kwargs):
        return client.get(path, base_url=f"http://{HOST}", **kwargs)

    case_id = client.post("/api/captures", json=make_capture("testimonial"), base_url=f"http://{HOST}",
                          headers=headers).json["id"]
    offence_id = client.post("/api/captures", json=make_capture("offence"), base_url=f"http://{HOST}",
                             headers=headers).json["id"]

    # the API route, with its file name and the 409 for a kind that has no such document
    answer = get(f"/api/captures/{case_id}/thank-you.pdf", headers=headers)
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF-")
    assert re.search(r'filename="testimone-thank-you-\w{6}-\d{4}-\d\d-\d\d\.pdf"', answer.headers["Content-Disposition"])
    refused = get(f"/api/captures/{offence_id}/thank-you.pdf", headers=headers)
    assert refused.status_code == 409 and "thank you letter is for testimonial cases" in refused.json["error"]["message"]

    # the OpenAPI document
    paths = get("/api/openapi.json", headers=headers).json["paths"]
    assert paths["/api/captures/{case_id}/thank-you.pdf"]["get"]["summary"] == THANKS.summary

    # the dashboard's button, and its download
    log_in(client, registered.extensions["testimone.store"].data_dir)
    page = get(f"/cases/{case_id}").get_data(as_text=True)
    button = str(escape(i18n.text("consent_request", "title", "it")))  # as the page writes it
    assert button in page and f"/cases/{case_id}/files/thank-you.pdf" in page
    assert button not in get(f"/cases/{offence_id}").get_data(as_text=True)
    assert get(f"/cases/{case_id}/files/thank-you.pdf").data.startswith(b"%PDF-")

    # the evidence bundle
    bundle = get(f"/api/captures/{case_id}/bundle.zip", headers=headers)
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        names = archive.namelist()
    assert f"testimone-{case_id}/documents/thank-you-it.pdf" in names
    assert f"testimone-{case_id}/documents/consent-request-it.pdf" in names

    # render-samples
    result = CliRunner().invoke(main, ["render-samples", str(tmp_path / "samples")])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(tmp_path / "samples" / "thank_you_letter.en.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert samples.PROFILE["business_name"] in text


def test_every_document_type_has_its_template_and_strings():
    from server.render import pdf

    for kind in document_types.TYPES.values():
        assert (pdf.TEMPLATE_DIR / kind.template).is_file(), kind.name
        assert i18n.has(kind.catalogue, "version") and i18n.has(kind.catalogue, kind.label), kind.name
        assert kind.samples(), kind.name
    for kind_name in ("testimonial", "offence"):  # every case has exactly one main document that applies
        mains = [d for d in document_types.TYPES.values() if d.main and kind_name in d.kinds]
        records = [record for d in document_types.TYPES.values() if kind_name in d.kinds for _, record in d.samples()]
        assert mains and records
        for record in records:
            assert len([d for d in mains if d.when(record)]) == 1, (kind_name, record.get("status"))
