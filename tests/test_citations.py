"""Every document the code cites is in the repository."""
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CITING = [ROOT / "server", ROOT / "extension", ROOT / "pdf_templates", ROOT / "tests", ROOT / "benchmarks",
          ROOT / "scripts", ROOT / "docs", ROOT / "README.md"]
SKIPPED = {"fixtures", ".cache", "node_modules", "__pycache__"}  # saved pages; the benchmarks' filled data folders


def text_files(base: Path) -> list[Path]:
    found = []
    for folder, subfolders, names in os.walk(base):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED]  # os.walk does not enter these
        found += [Path(folder) / n for n in names if Path(n).suffix in (".py", ".js", ".mjs", ".toml", ".html", ".md", ".txt")]
    return found


def test_every_document_the_code_cites_is_in_the_repository():
    """A reference to a Markdown file (from the repository root, the citing file or docs/) must name a file
    that exists: the project stands alone."""
    missing = set()
    for base in CITING:
        files = [base] if base.is_file() else text_files(base)
        for path in files:
            for cited in re.findall(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b", path.read_text(errors="replace")):
                if cited.lower() == "readme.md" or cited.startswith(("http", "www.")):
                    continue
                candidates = [ROOT / cited, path.parent / cited, ROOT / "docs" / cited]
                if not any(c.is_file() for c in candidates) and not any((ROOT / "docs").rglob(cited)):
                    missing.add(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing, sorted(missing)
