"""The local dashboard at / : server-rendered pages (Italian/English) and CSRF-protected forms.

Every page but the login needs a session, opened by a one-time login link (server/security.py).
Pages and forms call the same services as the JSON API (server/services/), so a rule lives in one
place. The dashboard never hands the pairing token to the browser except on the "Connect the extension"
page and to the extension it pairs. What the rules refuse is answered by one handler: a message on the
case page, or "not found".
"""
import base64
import hmac
import re
import secrets
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   send_file, session, url_for)

from . import i18n, security
from .domain import cases, legal, schemas
from .domain import profile as business_profile
from .domain.errors import DomainError, Invalid, NotFound
from .render import bundle, document_types
from .render.pool import RenderBusy
from .services import cases as case_service, deadlines as deadline_service, documents as document_service
from .services import evidence as evidence_service
from .domain import vocabulary
from .domain.vocabulary import KINDS, LANGUAGES, PLATFORMS, PURPOSES
from .store import decode_cursor, get_store

bp = Blueprint("dashboard", __name__)

URGENT_DAYS = 14  # docs/legal.md: the first reminder comes 14 days before a deadline
PAGE_SIZE = 25
SESSION_DAYS = 30  # a login link keeps that browser logged in this long
MAIN_DOCUMENT, BUNDLE = "document.pdf", "bundle.zip"  # besides each document type's own file
# A path on this server: one slash then no second slash or backslash, no spaces or control characters
# (browsers drop tabs and newlines and read "\\" as "/", so "/\t/evil.example" would leave the site).
LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@bp.record_once
def configure_sessions(state) -> None:
    """The session names the operator and holds the CSRF token. Its key is derived from the pairing token:
    stable per install, secret as the token is, and a new token logs every browser out."""
    app = state.app
    if not app.secret_key:
        app.secret_key = hmac.new(app.config["TOKEN"].encode(), b"testimone dashboard session", "sha256").digest()
    # Cookies are shared by every port of 127.0.0.1: a name of our own, and never sent cross-site.
    app.config["SESSION_COOKIE_NAME"] = "testimone_session"
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=SESSION_DAYS)


# -- language, CSRF, headers ----------------------------------------------------------------------

def language() -> str:
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    stored = get_store().get_setting("profile") or {}
    return stored.get("default_language") if stored.get("default_language") in LANGUAGES else "it"


def t(key: str, **values) -> str:
    return i18n.text("dashboard", key, g.lang).format(**values)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


OPEN_PAGES = {"dashboard.login", "dashboard.set_language"}


@bp.before_request
def before() -> Response | None:
    g.lang = language()
    g.operator = session.get("operator")
    if g.operator is None and request.endpoint not in OPEN_PAGES:
        # Not logged in: say how to log in, and leave the session alone (no cookie is set).
        return Response(render_template("login.html", refused=False), 401)
    if request.method != "POST":
        return None
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    origin = request.headers.get("Origin")
    same_origin = origin is None or origin == request.host_url.rstrip("/")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()) or not same_origin:
        return Response(render_template("error.html", title=t("csrf_title"), message=t("csrf_message")), 400)
    return None


@bp.after_request
def headers(response: Response) -> Response:
    # The pairing page's form ends on the extension's own page (server/security.py).
    response.headers["Content-Security-Policy"] = CSP.replace(
        "form-action 'self'", f"form-action 'self' {g.get('pairing_origin', '')}".rstrip())
    # "no-referrer" (the API's policy) makes browsers send "Origin: null" with our own forms; "same-origin"
    # still tells other sites nothing.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")  # pages show personal data
    return response


@bp.app_context_processor
def template_helpers() -> dict:
    if request.blueprint != "dashboard":
        return {}
    return {"t": t, "lang": g.lang, "csrf_token": csrf_token, "legal": legal, "cases": cases,
            "vocabulary": vocabulary, "label": label, "day": format_day, "instant": format_instant,
            "days_until": days_until}


def days_until(value: str) -> int:
    return (date.fromisoformat(value) - schemas.today_in_italy()).days


def label(group: str, value) -> str:
    """The text for a vocabulary value (status, kind, action...), falling back to the raw value."""
    return i18n.get("dashboard", f"{group}.{value}", g.lang) or str(value)


def format_day(value: str | None) -> str:
    if not value:
        return "—"
    day = date.fromisoformat(value[:10])
    return f"{day:%d/%m/%Y}" if g.lang == "it" else f"{day:%d %b %Y}"


def format_instant(value: str | None) -> str:
    """A timestamp shown in UTC (evidence times are compared across time zones)."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # a page that gave no offset: show it as it was given
        return f"{format_day(value)} {moment:%H:%M}"
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:  # stored before dates were range-checked: show it as it was given
        return value
    return f"{format_day(moment.date().isoformat())} {moment:%H:%M} UTC"


@bp.errorhandler(404)
def not_found(_error):
    return render_template("error.html", title=t("not_found_title"), message=t("not_found_message")), 404


@bp.get("/login")
def login():
    """The one-time link printed by `make run` (or `testimone login-url`) opens a session for the operator."""
    if not security.redeem_login_key(get_store().data_dir, request.args.get("key", "")):
        return Response(render_template("login.html", refused=True), 403)
    chosen_language = session.get("lang")
    session.clear()
    session.update(operator=security.OWNER, **({"lang": chosen_language} if chosen_language else {}))
    session.permanent = True
    if business_profile.missing_fields(get_store().get_setting("profile")):  # first run: who signs the documents
        return redirect(url_for(".settings", welcome=1))
    return redirect(url_for(".case_list"))


@bp.post("/logout")
def logout():
    session.clear()
    return Response(render_template("login.html", refused=False), 200)


@bp.errorhandler(RenderBusy)
def render_busy(error: RenderBusy):
    page = render_template("error.html", title=t("busy_title"), message=t("busy_message", seconds=error.retry_after))
    return page, 503, {"Retry-After": str(error.retry_after)}


@bp.errorhandler(DomainError)
def refused(error: DomainError):
    """What the rules refuse: told on the case page (at the form's anchor), or "not found"."""
    case_id = (request.view_args or {}).get("case_id")
    if case_id is None or (isinstance(error, NotFound) and error.field == "id"):
        return not_found(error)
    if g.get("document"):
        flash(t("document_unavailable", detail=error.message_in(g.lang)), "error")
    else:
        field = label("field", (error.field or "").split(".")[0]) if error.field else ""
        flash(t(f"error.{error.code}" if i18n.has("dashboard", f"error.{error.code}") else "error.other",
                field=field, detail=error.message_in(g.lang)), "error")
    return redirect(url_for(".case_page", case_id=case_id) + (f"#{g.anchor}" if g.get("anchor") else ""))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    target = request.args.get("next", "/")
    return redirect(target if LOCAL_PATH.fullmatch(target) else "/")


# -- pages ----------------------------------------------------------------------------------------

def _choice(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    return value if value in allowed else None


@bp.get("/")
def case_list():
    today = schemas.today_in_italy()
    filters = {"kind": _choice("kind", KINDS), "platform": _choice("platform", PLATFORMS),
               "status": _choice("status", vocabulary.TESTIMONIAL_STATUSES + vocabulary.OFFENCE_STATUSES),
               "q": (request.args.get("q") or "").strip()[:200] or None}
    cursor = request.args.get("cursor")
    try:
        decode_cursor(cursor) if cursor else None
    except ValueError:
        cursor = None
    items, next_cursor = case_service.list_cases(get_store(), **filters, limit=PAGE_SIZE, cursor=cursor)
    upcoming = [(record, deadline, (date.fromisoformat(deadline["due"]) - today).days)
                for record, deadline in deadline_service.soonest(get_store(), 8)]
    next_url = url_for(".case_list", **{k: v for k, v in filters.items() if v}, cursor=next_cursor) \
        if next_cursor else None
    return render_template("cases.html", items=items, filters=filters, upcoming=upcoming, next_url=next_url,
                           urgent_days=URGENT_DAYS, statuses=vocabulary.TESTIMONIAL_STATUSES + vocabulary.OFFENCE_STATUSES,
                           kinds=KINDS, platforms=PLATFORMS, today=today,
                           profile_missing=business_profile.missing_fields(get_store().get_setting("profile")))


@bp.get("/cases/<case_id>")
def case_page(case_id: str):
    record = case_service.get(get_store(), case_id)
    today = schemas.today_in_italy()
    screenshot = next((e for e in record["evidence"] if e["name"].startswith("screenshot.")), None)
    case_language = document_service.language(get_store(), record)
    return render_template("case.html", case=record, today=today, screenshot=screenshot, case_language=case_language,
                           consent=cases.consent(record) if record["kind"] == "testimonial" else None,
                           active=cases.active_placements(record), documents=_documents(record))


def _documents(record: dict) -> list[tuple[str, str]]:
    """(file, button label) for every document the case has, then the bundle."""
    return ([(kind.path, kind.button(g.lang)) for kind in document_types.for_case(record)]
            + [(BUNDLE, label("document", BUNDLE))])


@bp.get("/cases/<case_id>/evidence/<name>")
def evidence(case_id: str, name: str):
    record = case_service.load(get_store(), case_id)
    entry = next((e for e in record["evidence"] if e["name"] == name), None)
    if entry is None:
        abort(404)
    data = get_store().read_evidence(case_id, name)
    if entry["media_type"] in ("image/png", "image/jpeg", "image/webp"):
        return Response(data, mimetype=entry["media_type"])
    # Captured HTML must never run on this origin: every other file is a download.
    return Response(data, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{case_id}-{name}"'})


@bp.get("/cases/<case_id>/files/<document>")
def document(case_id: str, document: str):
    """A PDF (or the bundle) of the case, as the API gives it (signed, audited)."""
    kind = document_types.by_path(document)
    if kind is None and document not in (MAIN_DOCUMENT, BUNDLE):
        return redirect(url_for(".case_page", case_id=case_id))
    g.document = True
    tsa_url = current_app.config.get("TSA_URL") or ""
    if document == BUNDLE:
        data = bundle.to_zip(evidence_service.bundle(get_store(), case_id, tsa_url=tsa_url), case_id)
        return Response(data, mimetype="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="testimone-{case_id}.zip"'})
    # Without ?lang= the case's recipient language, not the dashboard's: the documents go to others.
    answer = document_service.document(get_store(), case_id, kind and kind.name, request.args.get("lang"),
                                       tsa_url=tsa_url)
    return Response(answer.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{answer.filename}"'})


@bp.get("/calendar.ics")
def calendar_file():
    """The deadlines feed as a one-off download, for calendar services that cannot reach this computer."""
    feed, etag = deadline_service.kept_feed(get_store(), g.lang, request.host_url.rstrip("/"))
    return send_file(feed, mimetype="text/calendar", etag=etag, as_attachment=True,
                     download_name="testimone-deadlines.ics", max_age=None)


@bp.get("/authors")
def author_page():
    profile_url = request.args.get("profile_url", "")
    if not profile_url:
        abort(404)
    view = case_service.author(get_store(), profile_url)
    return render_template("author.html", author=view, signal_names=vocabulary.SIGNALS)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """The business profile. With ?welcome=1 (after the first login) only the fields the documents need."""
    stored = get_store().get_setting("profile") or {}
    errors = {}
    values = business_profile.complete(stored)
    welcome = bool(request.values.get("welcome"))
    if request.method == "POST":
        submitted = {field: request.form.get(field, values[field] or "") for field in business_profile.FIELDS}
        try:
            clean = document_service.save_profile(get_store(), submitted)
        except Invalid as error:  # shown beside its field, with what was typed
            errors[error.field] = error.message_in(g.lang)
            values = submitted
        else:
            session["lang"] = clean["default_language"]
            g.lang = clean["default_language"]
            flash(t("settings_saved"), "ok")
            return redirect(url_for(".case_list" if welcome else ".settings"))
    shown = [field for field in business_profile.FIELDS
             if not welcome or field in business_profile.REQUIRED or field == "default_language"]
    fields = [(field, business_profile.FIELD_NAMES.get(field, {}).get(g.lang, field),
               field in business_profile.REQUIRED) for field in shown]
    return render_template("settings.html", fields=fields, values=values, errors=errors, welcome=welcome,
                           missing=business_profile.missing_fields(stored))


@bp.get("/connect")
def connect():
    server = request.host_url.rstrip("/")
    token = current_app.config["TOKEN"]
    return render_template("connect.html", server=server, token=token,
                           feed=f"{server}/api/deadlines.ics?{urlencode({'token': token, 'lang': g.lang})}")


@bp.get("/pair")
def pair():
    """Step 2 of pairing: the extension's options opened this page; the operator approves that extension."""
    origin = request.args.get("extension", "")
    if not security.is_extension_origin(origin):
        return Response(render_template("error.html", title=t("pair_title"), message=t("pair_bad_origin")), 400)
    g.pairing_origin = origin
    return render_template("pair.html", origin=origin, paired=security.paired_origin(get_store()))


@bp.post("/pair")
def pair_approved():
    """Step 3: a one-time code goes to the extension's own page, which trades it for the token
    (POST /api/pair); the code never reaches another page, the token never leaves this server in a URL."""
    origin = request.form.get("extension", "")
    if not security.is_extension_origin(origin):
        abort(400)
    code = current_app.extensions["testimone.pairing_codes"].issue(origin)
    fragment = urlencode({"pairing-code": code, "server": request.host_url.rstrip("/")})
    return redirect(f"{origin}/options/options.html#{fragment}", 303)


@bp.get("/integrity")
def integrity():
    """The same check as `testimone verify` and GET /api/verify: every hash, the audit chain, timestamps."""
    return render_template("integrity.html", report=evidence_service.verify(get_store()))


# -- forms ----------------------------------------------------------------------------------------

def _file(name: str) -> dict | None:
    upload = request.files.get(name)
    if not upload or not upload.filename:
        return None
    return {"media_type": upload.mimetype, "data": base64.b64encode(upload.read()).decode()}


def _text(name: str) -> str | None:
    return (request.form.get(name) or "").strip() or None


def _run(step, case_id: str, *values, anchor: str, done_key: str):
    """Run a service step with the form's values; report the outcome on the case page (a refusal: see
    refused())."""
    g.anchor = anchor
    case_service.load(get_store(), case_id)
    step(get_store(), case_id, *values)
    flash(t(done_key), "ok")
    return redirect(url_for(".case_page", case_id=case_id) + f"#{anchor}")


@bp.post("/cases/<case_id>/consent")
def consent_form(case_id: str):
    body = {"decision": request.form.get("decision"),
            "purposes": {p: f"purpose_{p}" in request.form for p in PURPOSES},
            "photo": "photo" in request.form, "attribution": request.form.get("attribution"),
            "received_via": request.form.get("received_via"), "received_at": request.form.get("received_at"),
            "evidence": _file("evidence")}
    return _run(case_service.record_consent, case_id, body, anchor="consent", done_key="done.consent")


@bp.post("/cases/<case_id>/placements")
def placement_form(case_id: str):
    body = {"channel": request.form.get("channel"), "url": _text("url"), "description": _text("description"),
            "published_at": request.form.get("published_at")}
    return _run(case_service.add_placement, case_id, body, anchor="placements", done_key="done.placement")


@bp.post("/cases/<case_id>/placements/<placement_id>/removed")
def removal_form(case_id: str, placement_id: str):
    body = {"removed_at": request.form.get("removed_at"), "evidence": _file("evidence")}
    return _run(case_service.remove_placement, case_id, placement_id, body, anchor="placements",
                done_key="done.removal")


@bp.post("/cases/<case_id>/revocation")
def revocation_form(case_id: str):
    body = {"received_at": request.form.get("received_at"), "received_via": request.form.get("received_via")}
    if "confirm" not in request.form:
        flash(t("error.confirm"), "error")
        return redirect(url_for(".case_page", case_id=case_id) + "#revocation")
    return _run(case_service.withdraw, case_id, body, anchor="placements", done_key="done.revocation")


@bp.post("/cases/<case_id>/actions")
def action_form(case_id: str):
    body = {"type": request.form.get("type"), "date": request.form.get("date"),
            "reference": _text("reference"), "notes": _text("notes"), "due": _text("due")}
    return _run(case_service.record_action, case_id, body, anchor="actions", done_key="done.action")


@bp.post("/cases/<case_id>/known-since")
def known_since_form(case_id: str):
    body = {"known_since": request.form.get("known_since"), "reason": _text("reason") or ""}
    return _run(case_service.update_case, case_id, body, anchor="deadlines", done_key="done.known_since")


@bp.post("/cases/<case_id>/documents")
def document_fields_form(case_id: str):
    body = {"recipient_language": request.form.get("recipient_language")}
    if case_service.load(get_store(), case_id)["kind"] == "offence":
        body.update(target=request.form.get("target"), target_person=_text("target_person"),
                    false_statements=[line.strip() for line in (request.form.get("false_statements") or "").splitlines()
                                      if line.strip()])
    return _run(case_service.update_case, case_id, body, anchor="document-fields", done_key="done.document_fields")


@bp.post("/cases/<case_id>/signals")
def signals_form(case_id: str):
    body = {"signals": [s for s in vocabulary.SIGNALS if f"signal_{s}" in request.form]}
    return _run(case_service.update_case, case_id, body, anchor="signals", done_key="done.signals")
