"""Every user-facing string on the Python side, in gettext catalogues: one .po file per language,
server/locales/<lang>/LC_MESSAGES/testimone.po (docs/translating.md, docs/decisions/0004-gettext.md).

A message is named by its context (msgctxt: "dashboard", "document" for what every PDF shares, a document
type's name, "legal", "profile", "witness", "calendar") and a key (msgid: "consent.title"); its msgstr is
the text in that file's language. Each entry also carries the other languages' text as an extracted
comment ("#. it: ..."), so a translator or a lawyer reads source and translation side by side; those
comments are written by `python -m server.i18n`, and tests/test_catalogues.py fails when they are stale.

The language is always explicit (a PDF is in its recipient's language, not the request's), so the
catalogues are plain dictionaries read once per process with Babel's .po reader; no .mo files are built.
Texts keep str.format placeholders ("{author}"); callers fill them in (the PDFs escape the text first).
"""
import io
import re
import sys
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from .domain.vocabulary import LANGUAGES

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "testimone"
REFERENCE = LANGUAGES[0]  # has() asks this language


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str) -> Catalog:
    if lang not in LANGUAGES:
        raise KeyError(f"Unknown language '{lang}'")
    with open(po_path(lang), "rb") as file:
        return read_po(file, locale=lang, domain=DOMAIN)


@lru_cache(maxsize=None)
def messages(lang: str) -> dict[tuple[str, str], str]:
    """{(context, key): text} for one language; empty and fuzzy entries are left out (they count as missing)."""
    return {(message.context or "", message.id): message.string for message in read(lang)
            if message.id and isinstance(message.string, str) and message.string and not message.fuzzy}


def text(context: str, key: str, lang: str) -> str:
    """The text, or KeyError naming the message (tests/test_catalogues.py keeps every language complete)."""
    try:
        return messages(lang)[(context, key)]
    except KeyError:
        raise KeyError(f"No '{key}' in context '{context}' of {po_path(lang).relative_to(LOCALES.parent)}") from None


def get(context: str, key: str, lang: str, default: str | None = None) -> str | None:
    return messages(lang).get((context, key), default)


def has(context: str, key: str) -> bool:
    return (context, key) in messages(REFERENCE)


def both(context: str, key: str) -> dict[str, str]:
    """{"it": ..., "en": ...}: for answers that carry every language (the API's witness message)."""
    return {lang: text(context, key, lang) for lang in LANGUAGES}


def table(context: str, prefix: str, values) -> dict[str, dict[str, str]]:
    """{value: {lang: text of "<prefix>.<value>"}} for a list of vocabulary values; a value without a text in
    every language is left out (vocabulary.label() then shows the value itself)."""
    found = {value: {lang: get(context, f"{prefix}.{value}", lang) for lang in LANGUAGES} for value in values}
    return {value: texts for value, texts in found.items() if all(texts.values())}


def numbered(context: str, prefix: str, lang: str) -> list[str]:
    """The texts of "<prefix>.1", "<prefix>.2"... in order (the months, the advice's paragraphs)."""
    found, number = [], 1
    while (context, f"{prefix}.{number}") in messages(lang):
        found.append(messages(lang)[(context, f"{prefix}.{number}")])
        number += 1
    return found


# -- keeping the files side by side -------------------------------------------------------------------

def canonical(catalogues: dict[str, Catalog]) -> dict[str, bytes]:
    """Each language's file as it should be: every entry carries the other languages' text as "#. <lang>: "
    comments, and the brace-format flag when it has placeholders. Entries keep their order."""
    out = {}
    for lang, catalogue in catalogues.items():
        for message in catalogue:
            if not message.id:
                continue
            others = [(other, catalogues[other].get(message.id, message.context)) for other in LANGUAGES if other != lang]
            message.auto_comments = [f"{other}: {found.string}" for other, found in others
                                     if found is not None and found.string]
            texts = [message.string] + [found.string for _, found in others if found is not None]
            if any("{" in (value or "") for value in texts):
                message.flags.add("python-brace-format")
            else:
                message.flags.discard("python-brace-format")
        catalogue.fuzzy = False
        buffer = io.BytesIO()
        write_po(buffer, catalogue, width=100, omit_header=False)
        # Babel names its own version (and a placeholder address) in the header: left out, so that another
        # Babel version writes the same file.
        out[lang] = re.sub(rb'"(Generated-By|Report-Msgid-Bugs-To): [^"]*"\n', b"", buffer.getvalue())
    return out


def stale() -> list[Path]:
    """The .po files whose side-by-side comments or flags are not current."""
    wanted = canonical({lang: read(lang) for lang in LANGUAGES})
    return [po_path(lang) for lang, data in wanted.items() if po_path(lang).read_bytes() != data]


def refresh() -> list[Path]:
    """Rewrite the .po files in their canonical form; returns the files that changed."""
    changed = stale()
    for lang, data in canonical({lang: read(lang) for lang in LANGUAGES}).items():
        if po_path(lang) in changed:
            po_path(lang).write_bytes(data)
    messages.cache_clear()
    return changed


if __name__ == "__main__":  # python -m server.i18n: refresh the side-by-side comments after editing a .po file
    for path in refresh():
        print(f"rewrote {path}")
    sys.exit(0)
