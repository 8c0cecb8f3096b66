"""The German catalog is complete: every message the customer pages can show has a translation.

The messages are extracted from the sources here, exactly as ``make messages`` does
(``babel.cfg``), so a new English message without its German fails this test.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOG = ROOT / "bookingapp" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _method_map() -> list[tuple[str, str]]:
    """babel.cfg's sections as (pattern, method) pairs."""
    sections = re.findall(r"^\[(\w+):\s*(.+?)\]$", (ROOT / "babel.cfg").read_text(), re.M)
    return [(pattern, method) for method, pattern in sections]


def _extracted() -> set[str | tuple[str, str]]:
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), _method_map(), keywords=KEYWORDS, comment_tags=()
    ):
        messages.add(message if isinstance(message, str) else tuple(message[:2]))
    return messages


@pytest.fixture(scope="module")
def german():
    with CATALOG.open("rb") as po:
        return read_po(po, locale="de")


def test_the_sources_have_messages_to_translate():
    extracted = _extracted()
    assert "Choose a game" in extracted and ("%(num)d hour", "%(num)d hours") in extracted


def test_every_message_has_a_german_translation(german):
    missing = []
    for message in sorted(_extracted(), key=str):
        entry = german.get(message if isinstance(message, str) else message[0])
        strings = () if entry is None else (entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(message)
    assert missing == [], "German missing (run make messages, then translate): " + repr(missing)


def test_german_keeps_every_placeholder_of_the_english(german):
    wrong = []
    for entry in german:
        if not entry.id:
            continue
        english = entry.id if isinstance(entry.id, str) else entry.id[0]
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if any(set(PLACEHOLDER.findall(s)) != set(PLACEHOLDER.findall(english)) for s in strings if s):
            wrong.append(english)
    assert wrong == []
