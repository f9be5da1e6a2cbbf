"""Comments cite the repository's own notes in docs/, by a section that exists.

A clone has only what is in the repository, so a citation of a document kept elsewhere (the
MusicAPI reference or open-question list it was first written from, the product or engineering
spec, a `../shared/` path) tells a reader nothing. Citations of `docs/<note>.md §N` or
`docs/<note>.md E.24` must name a note that exists and a heading it has; a bare `§N` means a
section of docs/musicapi/protocol.md and must exist there too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PROTOCOL = "docs/musicapi/protocol.md"
THIS_FILE = Path(__file__).resolve()

SKIP_DIRS = {
    ".git",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "build",
    "dist",
    "data",
    "node_modules",
    ".tox",
}
BINARY_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".mp3",
    ".wav",
    ".m4a",
    ".mid",
    ".midi",
    ".ogg",
    ".db",
    ".sqlite",
    ".sqlite3",
    ".pyc",
    ".gz",
    ".zip",
    ".whl",
}

# Documents that live outside the repository. SQL's `REFERENCES` is not one of them.
OUTSIDE = re.compile(
    r"\bREFERENCE(?:\.md)?\b|OPEN-QUESTIONS|\bPRODUCT(?:\.md\b|\s*§)"
    r"|\bENGINEERING(?:\.md\b|\s*§)|\.\./shared\b|shared/musicapi"
)
SECTION = r"§\d+(?:\.\d+)*"
QUESTION = r"[A-G](?:\.\d+)?\b"
DOCS_CITATION = re.compile(
    r"\bdocs/(?P<path>[\w./-]+?\.md)\b(?:'s)?"
    rf"(?:\s+(?P<sections>{SECTION}(?:\s*(?:–|-|,|and)\s*{SECTION})*)"
    rf"|\s+(?P<questions>{QUESTION}(?:\s*(?:,|and)\s*{QUESTION})*))?"
)
BARE_SECTION = re.compile(rf"(?<![\w/.§]){SECTION}")
HEADING = re.compile(rf"^#{{1,6}}\s+({SECTION}|{QUESTION})", re.MULTILINE)
# A citation broken over two comment lines reads as one line.
LINE_JOIN = re.compile(r"[ \t]*\n[ \t]*(?:#+|--)?[ \t]*")


def repository_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not d.startswith(".venv")
            and not d.endswith(".egg-info")
            and not (here == ROOT and d == "docs")
        )
        for name in sorted(files):
            path = here / name
            if path.resolve() == THIS_FILE or path.suffix.lower() in BINARY_SUFFIXES:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if "\0" not in text:
                found.append(path)
    return found


def headings(note: str) -> set[str]:
    return set(HEADING.findall((ROOT / note).read_text(encoding="utf-8")))


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def joined(text: str) -> tuple[str, list[int]]:
    """The text with line breaks (and comment markers after them) as single spaces, and for
    each of its characters the line it came from."""
    out: list[str] = []
    lines: list[int] = []
    position, line = 0, 1
    for match in LINE_JOIN.finditer(text):  # every line break is one of these
        chunk = text[position : match.start()]
        out += [chunk, " "]
        lines += [line] * (len(chunk) + 1)
        line += text.count("\n", match.start(), match.end())
        position = match.end()
    out.append(text[position:])
    lines += [line] * (len(text) - position)
    return "".join(out), lines


def test_the_notes_exist_with_the_sections_the_code_cites() -> None:
    assert (DOCS / "README.md").is_file()
    protocol = headings(PROTOCOL)
    questions = headings("docs/musicapi/open-questions.md")
    # The sections and questions the code cited when the notes were written.
    for section in ("§1", "§2.3", "§2.5", "§3.1", "§3.14", "§3.20", "§5", "§10.1", "§12"):
        assert section in protocol, section
    for question in ("A", "A.8", "B.13", "D.20", "E.24", "F", "F.30", "G.35"):
        assert question in questions, question


def test_nothing_outside_docs_cites_a_document_the_repository_lacks() -> None:
    found = []
    for path in repository_files():
        text = path.read_text(encoding="utf-8")
        for match in OUTSIDE.finditer(text):
            rel = path.relative_to(ROOT)
            found.append(f"{rel}:{line_of(text, match.start())}: {match.group(0)}")
    assert found == [], "cite docs/… instead:\n" + "\n".join(found)


def test_every_docs_citation_names_a_note_and_a_heading_it_has() -> None:
    known: dict[str, set[str]] = {}
    broken = []
    for path in repository_files():
        text, lines = joined(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT)
        cites_protocol = False
        for match in DOCS_CITATION.finditer(text):
            note = f"docs/{match.group('path')}"
            where = f"{rel}:{lines[match.start()]}: {match.group(0)}"
            if not (ROOT / note).is_file():
                broken.append(f"{where}: no such note")
                continue
            cites_protocol |= note == PROTOCOL
            have = known.setdefault(note, headings(note))
            wanted = re.findall(SECTION, match.group("sections") or "")
            if any(not heading.startswith("§") for heading in have):
                wanted += re.findall(QUESTION, match.group("questions") or "")
            broken += [f"{where}: no heading {w} in {note}" for w in wanted if w not in have]
        bare = [m for m in BARE_SECTION.finditer(text) if not _inside_citation(text, m.start())]
        if bare and not cites_protocol:
            broken.append(
                f"{rel}:{lines[bare[0].start()]}: bare {bare[0].group(0)} in a file "
                f"that names no note; write {PROTOCOL} {bare[0].group(0)}"
            )
            continue
        protocol = known.setdefault(PROTOCOL, headings(PROTOCOL))
        broken += [
            f"{rel}:{lines[m.start()]}: {m.group(0)} is not a heading of {PROTOCOL}"
            for m in bare
            if m.group(0) not in protocol
        ]
    assert broken == [], "\n".join(broken)


def _inside_citation(text: str, offset: int) -> bool:
    """Whether the § at `offset` belongs to a `docs/….md §…` citation (already checked)."""
    for match in DOCS_CITATION.finditer(text, max(0, offset - 300)):
        if match.start() > offset:
            return False
        if match.group("sections") and match.start("sections") <= offset < match.end("sections"):
            return True
    return False


def test_the_citation_checks_catch_what_they_are_for() -> None:
    """The patterns themselves: an outside citation is found, SQL's keyword is not, and a
    citation broken over comment lines still reads as one."""
    assert OUTSIDE.search("as REFERENCE §3.1 says")
    assert OUTSIDE.search("(OPEN-QUESTIONS E.24)")
    assert OUTSIDE.search("see ../shared/musicapi/examples/x.json")
    assert OUTSIDE.search("a refusal (PRODUCT §6)")
    assert not OUTSIDE.search("job_id INTEGER REFERENCES jobs (id)")
    text, _ = joined("# as docs/musicapi/protocol.md\n    # §3.14 and §3.2 say")
    match = DOCS_CITATION.search(text)
    assert match is not None
    assert match.group("path") == "musicapi/protocol.md"
    assert re.findall(SECTION, match.group("sections")) == ["§3.14", "§3.2"]
    text, _ = joined("docs/musicapi/open-questions.md E.24, E.26 and F")
    match = DOCS_CITATION.search(text)
    assert match is not None
    assert re.findall(QUESTION, match.group("questions")) == ["E.24", "E.26", "F"]
