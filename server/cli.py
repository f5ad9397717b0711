"""The `testimone` command."""
import json
import signal
import sys

import click

from . import __version__, config
from .domain.errors import DomainError
from .store import StoreDamaged


def _app():
    from . import create_app
    from .store import StoreLocked

    try:
        return create_app()
    except StoreLocked as error:
        raise click.ClickException(f"{error}. Stop it first, or set TESTIMONE_DATA_DIR.") from None


class Commands(click.Group):
    """What the rules refuse (no such case...) ends a command with its message and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DomainError as error:
            # A terminal has no Accept-Language: both, as the command line's other messages.
            raise click.ClickException(f"{error.message_in('en')} / {error.message_in('it')}") from None
        except StoreDamaged as error:  # what is wrong, where, and what to do: no traceback
            raise click.ClickException(str(error)) from None


@click.group(cls=Commands)
@click.version_option(__version__, prog_name="testimone")
def main():
    """Testimone: testimonials with consent, offences with evidence. Runs on this computer only."""


@main.command()
def serve():
    """Run the server (waitress) on 127.0.0.1:8765 or TESTIMONE_HOST/TESTIMONE_PORT."""
    import waitress

    from .security import login_url, new_login_key, remote_binding_refused

    app = _app()
    host, port = app.config["HOST"], app.config["PORT"]
    refusal = remote_binding_refused(app.config)
    if refusal:
        app.extensions["testimone.store"].close()
        raise click.ClickException(refusal)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.secho(f"Warning: listening on {host}, not only on this computer: use TLS (docs/security.md).",
                    fg="yellow", err=True)
    _check_pdf_engine()
    from .render import pool

    pool.configure(app.config["RENDER_WORKERS"], app.config["RENDER_QUEUE"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean exit stops the render workers too
    click.echo(f"""
Testimone {__version__} is running at http://127.0.0.1:{port}/
  Data:  {config.data_dir(app.config)}

Open the dashboard (this link works once) / Apri la dashboard (il link vale una volta):
  {login_url(app.config, new_login_key(config.data_dir(app.config)))}

Next / Prossimi passi:
  1. Fill in your business profile. / Compila il profilo dell'attività.
  2. Load the browser extension (README, "The browser extension"), open its options, press "Connect"
     and allow it in the dashboard. / Carica l'estensione, apri le opzioni, premi «Collega» e consenti.
  3. Right-click a comment on Facebook or TripAdvisor: "Cattura con Testimone".
A new login link: .venv/bin/testimone login-url      Stop with Ctrl+C.
""")
    try:
        waitress.serve(app, host=host, port=port, threads=app.config["THREADS"], ident="Testimone",
                       max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 1)
    finally:  # Ctrl+C or SIGTERM: a clean stop, so the next start has nothing to recover
        app.extensions["testimone.store"].close()


@main.command("login-url")
def login_url_command():
    """Print a new one-time link that opens the dashboard (works while the server runs)."""
    from .security import login_url, new_login_key

    settings = {**config.DEFAULTS, **config.from_environment()}
    folder = config.data_dir(settings)
    if not folder.is_dir():
        raise click.ClickException(f"No Testimone data in {folder}: start the server first (make run).")
    click.echo(login_url(settings, new_login_key(folder)))


@main.command()
def token():
    """Print the pairing token the extension needs (works while the server runs)."""
    from .security import pairing_token
    from .store import protect_data_dir

    settings = {**config.DEFAULTS, **config.from_environment()}
    folder = config.data_dir(settings)
    protect_data_dir(folder)
    click.echo(pairing_token(settings, folder))


def _check_pdf_engine() -> None:
    """Say at once when Pango is missing. The names are the ones WeasyPrint itself tries (weasyprint/text/ffi.py);
    loading the library is a few milliseconds, importing WeasyPrint here would be a second of every start
    (the render workers import it)."""
    import ctypes

    for name in ("libpango-1.0.so.0", "libpango-1.0-0", "pango-1.0-0", "pango-1.0", "libpango-1.0.dylib",
                 "libpango-1.0-0.dll"):
        try:
            ctypes.CDLL(name)
            return
        except OSError:
            continue
    click.secho("PDFs unavailable: WeasyPrint cannot load its system library Pango.\n"
                "Install Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                "(macOS: brew install pango).", fg="red", err=True)


@main.command()
@click.option("--case", "case_id", help="Only this case, hashed in full.")
@click.option("--since", metavar="YYYY-MM-DD", help="Only cases captured or changed since this date, hashed in full.")
@click.option("--full", is_flag=True, help="Hash every file and walk the whole audit chain (the proof of "
                                           "integrity; without it only what changed since the last run).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(case_id, since, full, as_json):
    """Recompute hashes, walk the audit chain, check timestamps (works while the server runs).

    By default incremental: a file whose size and mtime did not change since it last verified is not hashed
    again. --full hashes everything (docs/evidence.md)."""
    from .services.verify import format_report, verify as verify_data_dir
    from .store import holds_data

    folder = config.data_dir({**config.DEFAULTS, **config.from_environment()})
    if not holds_data(folder):
        raise click.ClickException(f"No Testimone data in {folder} (set TESTIMONE_DATA_DIR).")
    report = verify_data_dir(folder, case_id, mode="full" if full else "incremental", since=since)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else format_report(report))
    sys.exit(0 if report["ok"] else 1)


@main.command()
@click.argument("case_id")
@click.argument("target", type=click.Path())
def export(case_id, target):
    """Write a case's evidence bundle to TARGET: a folder, or a file ending in .zip (works while the server runs)."""
    from pathlib import Path

    from .render import bundle
    from .services import cases, evidence
    from .store import Store, StoreLocked, StoreView

    settings = {**config.DEFAULTS, **config.from_environment()}
    folder = config.data_dir(settings)
    cases.load(StoreView(folder), case_id)  # before anything is opened (or created) in the folder
    try:
        store, owned = Store(folder, initial_state=cases.initial_state), True
    except StoreLocked:  # the server holds the directory: read it as it is now, and leave its audit log alone
        store, owned = StoreView(folder), False
    try:
        files = evidence.bundle(store, case_id, tsa_url=settings.get("TSA_URL", ""), audit=owned)
    finally:
        if owned:
            store.close()
    try:
        if target.endswith(".zip"):
            Path(target).write_bytes(bundle.to_zip(files, case_id))
        else:
            bundle.to_folder(files, target)
    except OSError as error:  # not empty, no such folder, no permission
        raise click.ClickException(str(error)) from None
    note = json.loads(files["manifest.json"])["documents"]
    click.echo(f"{target}: {len(files)} files" + (f" ({note})" if isinstance(note, str) else ""))


@main.command()
@click.option("--pending", is_flag=True, required=True, help="Every case still waiting for its timestamp.")
def timestamp(pending):
    """Request the RFC 3161 timestamps still pending (the server also retries them by itself)."""
    from . import create_app
    from .store import StoreLocked
    from .services.background import pending_cases, stamp_case
    from .trust.timestamps import DEFAULT_TSA_URL, split_credentials

    settings = {**config.DEFAULTS, "TSA_URL": DEFAULT_TSA_URL, **config.from_environment(), "BACKGROUND": False}
    try:
        app = create_app(settings)
    except StoreLocked:
        raise click.ClickException("The server is running: it retries pending timestamps by itself. "
                                   "Stop it first to run this now.") from None
    store = app.extensions["testimone.store"]
    try:
        url = app.config["TSA_URL"]
        if not url:
            raise click.ClickException("TESTIMONE_TSA_URL is empty: timestamping is off.")
        stamped, waiting = 0, 0
        for case_id in pending_cases(store):
            outcome = stamp_case(store, case_id, url, app.config.get("TSA_CA_FILE"))
            if outcome == "stamped":
                stamped += 1
                click.echo(f"{case_id}: stamped / marcato")
            elif outcome == "pending":
                waiting += 1
                click.echo(f"{case_id}: still pending / ancora in attesa "
                           f"({(store.get(case_id).get('timestamp') or {}).get('last_error')})")
        click.echo(f"{stamped} stamped, {waiting} pending ({split_credentials(url)[0]}) / "
                   f"{stamped} marcati, {waiting} in attesa")
    finally:
        store.close()
    sys.exit(1 if waiting else 0)


@main.command("render-samples")
@click.argument("directory", type=click.Path(file_okay=False))
def render_samples(directory):
    """Render every document, in Italian and English, from built-in sample cases (invented people)."""
    from pathlib import Path

    from .services.documents import render_samples as render

    for path in render(Path(directory)):
        click.echo(path)


@main.command()
def vocabulary():
    """Print extension/lib/vocabulary.js, the extension's copy of server/domain/vocabulary.py.

    After changing the vocabulary: testimone vocabulary > extension/lib/vocabulary.js
    """
    from .domain.vocabulary import javascript

    click.echo(javascript(), nl=False)


if __name__ == "__main__":
    sys.exit(main())
