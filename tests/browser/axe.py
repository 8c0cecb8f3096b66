"""axe-core (from npm, never a CDN) run on a page in the browser tests.

``make test`` installs it into tests/browser/node_modules (ignored by git); the session
fixture ``axe_source`` installs it there too when it is missing, so pytest alone works
on a fresh clone with the npm registry in reach.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

AXE_CORE_VERSION = "4.10.3"  # the Makefile's AXE_CORE_VERSION
HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

# Every aria-describedby / aria-labelledby must name elements that exist.
_DANGLING_REFERENCES = """() => [...document.querySelectorAll('[aria-describedby], [aria-labelledby]')].flatMap(el =>
  ['aria-describedby', 'aria-labelledby'].flatMap(attr => (el.getAttribute(attr) || '').split(/\\s+/)
    .filter(id => id && !document.getElementById(id)).map(id => `${el.outerHTML.slice(0, 80)} ${attr}=${id}`)))"""

# Every id on the page names one element (axe no longer counts a repeated id as serious).
_DUPLICATE_IDS = """() => { const seen = {}; document.querySelectorAll('[id]').forEach(el => { seen[el.id] = (seen[el.id] || 0) + 1; });
  return Object.keys(seen).filter(id => seen[id] > 1).map(id => `${id} (${seen[id]} elements)`); }"""


def install_axe() -> str:
    """axe-core's source, installed from npm into tests/browser/node_modules when missing."""
    if not AXE_JS.exists():
        subprocess.run(
            ["npm", "install", "--silent", "--no-save", "--no-audit", "--no-fund", "--prefix", str(HERE),
             f"axe-core@{AXE_CORE_VERSION}"],
            check=True, timeout=300,
        )
    return AXE_JS.read_text()


def serious_violations(page, axe_source: str) -> list[str]:
    """axe's serious and critical WCAG 2.1 AA violations on the page, repeated ids and dangling ARIA references."""
    page.add_script_tag(content=axe_source)
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    found = [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
        for v in result["violations"] if v["impact"] in BLOCKING for node in v["nodes"]
    ]
    found += [f"duplicate id: {duplicate}" for duplicate in page.evaluate(_DUPLICATE_IDS)]
    return found + [f"dangling reference: {ref}" for ref in page.evaluate(_DANGLING_REFERENCES)]
