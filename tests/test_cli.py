import subprocess

from click.testing import CliRunner

from server.cli import main


def test_render_samples_writes_every_document_in_both_languages(tmp_path):
    result = CliRunner().invoke(main, ["render-samples", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = sorted(line.rsplit("/", 1)[1] for line in result.output.split())
    assert written == sorted(f"{name}.{lang}.pdf" for lang in ("it", "en") for name in
                             ("consent_request", "incident_report", "removal_demand", "takedown_pending",
                              "takedown_done"))
    italian = subprocess.run(["pdftotext", str(tmp_path / "out" / "incident_report.it.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    english = subprocess.run(["pdftotext", str(tmp_path / "out" / "incident_report.en.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    assert "Relazione sull'episodio" in italian and "Pagina 1 di" in italian
    assert "Incident report" in english and "Page 1 of" in english


def test_unknown_command_fails_clearly():
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command" in result.output
