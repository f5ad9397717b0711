"""The `testimone` command."""
import sys

import click

from . import __version__, config


def _app():
    from . import create_app
    from .store import StoreLocked

    try:
        return create_app()
    except StoreLocked as error:
        raise click.ClickException(f"{error}. Stop it first, or set TESTIMONE_DATA_DIR.") from None


@click.group()
@click.version_option(__version__, prog_name="testimone")
def main():
    """Testimone: testimonials with consent, offences with evidence. Runs on this computer only."""


@main.command()
def serve():
    """Run the server (waitress) on 127.0.0.1:8765 or TESTIMONE_HOST/TESTIMONE_PORT."""
    import waitress

    app = _app()
    host, port = app.config["HOST"], app.config["PORT"]
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.secho(f"Warning: listening on {host}, not only on this computer.", fg="yellow", err=True)
    _check_pdf_engine()
    url = f"http://127.0.0.1:{port}"
    click.echo(f"""
Testimone {__version__} is running at {url}/
  Data:           {config.data_dir(app.config)}
  Pairing token:  {app.config['TOKEN']}

Next / Prossimi passi:
  1. Load the browser extension (README, "The browser extension") and open its options.
     Carica l'estensione del browser e apri le sue opzioni.
  2. Paste the pairing token above (or press "Connect").  Incolla il token qui sopra.
  3. Right-click a comment on Facebook or TripAdvisor: "Cattura con Testimone".
Stop with Ctrl+C.
""")
    waitress.serve(app, host=host, port=port, threads=app.config["THREADS"], ident="Testimone",
                   max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 1)


@main.command()
def token():
    """Print the pairing token the extension needs (works while the server runs)."""
    from .security import pairing_token

    settings = {**config.DEFAULTS, **config.from_environment()}
    folder = config.data_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    click.echo(pairing_token(settings, folder))


def _check_pdf_engine() -> None:
    try:
        import weasyprint  # noqa: F401  (fails without Pango)
    except OSError as error:
        click.secho(f"PDFs unavailable: WeasyPrint cannot load its system libraries ({error}).\n"
                    "Install Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                    "(macOS: brew install pango).", fg="red", err=True)


if __name__ == "__main__":
    sys.exit(main())
