"""The documentation site: it builds with warnings as errors, and a reader sees what it should.

The build runs every derivation script in quick mode for the gallery (about a minute on two idle
cores); it is part of the default test run, so CI (``.ci/run``, the README's test command) builds the
site with ``-W`` every time. The built pages are then opened in headless Chromium (Debian's package,
installed by ``.ci/run``) with the network cut: on every page the math is typeset by the MathJax the
site ships (no raw ``\\(``, ``\\[`` or ``$$`` left in the visible text, no MathJax error, no remote
request), no page cites development tickets or sections of a specification file, every image loads,
and the gallery shows a thumbnail per derivation. Without Chromium those checks skip, saying why
(they fail instead where ``SYMHESS_REQUIRE_CHROMIUM=1``, as ``.ci/run`` sets).
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _extension():
    """docs/_ext/symhess_docs.py, the extension that generates pages (needs Sphinx)."""
    if importlib.util.find_spec("sphinx") is None:
        pytest.skip('sphinx not installed: pip install -e ".[docs]"')
    spec = importlib.util.spec_from_file_location("symhess_docs", ROOT / "docs" / "_ext" / "symhess_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_docstrings_become_valid_rst():
    """Docstrings written without RST in mind (``|v|^2``, ``chi^2_Nh``) are escaped, never a -W failure."""
    ext = _extension()
    assert ext._safe_rst("plain ``code`` and :math:`x^2`") == "plain ``code`` and :math:`x^2`"
    escaped = ext._safe_rst("the shift |v|^2 and *emphasis and ``--quick``")
    assert escaped == r"the shift \|v\|^2 and \*emphasis and ``--quick``" and not ext._rst_problems(escaped)
    escaped = ext._safe_rst("a_b_ and |v| and `x")
    assert escaped == r"a\_b\_ and \|v\| and \`x" and not ext._rst_problems(escaped)
    for script in sorted((ROOT / "derivations").glob("[0-9][0-9]_*.py")):
        title, body = ext._docstring(script)
        assert title and not ext._rst_problems(ext._safe_rst(body)), script.name
        assert title != script.stem and not INTERNAL.search(title), (script.name, title)  # a real title
        assert ext._paper_of(script) != "other", script.name  # its gallery section names its paper
    # a title may run over several lines before its underline
    assert ext._docstring_text("A long title\nin two lines\n=====\n\nBody.") == ("A long title in two lines", "Body.")
    # SYMHESS_DOCS_GALLERY: all, none, or the scripts with the given name prefixes
    scripts = [Path("02_a.py"), Path("40_b.py"), Path("41_c.py")]
    assert ext._selected(scripts, "1") == set(scripts) and ext._selected(scripts, "0") == set()
    assert ext._selected(scripts, "02, 41") == {scripts[0], scripts[2]}


SCRIPTS = sorted((ROOT / "derivations").glob("[0-9][0-9]_*.py"))

#: what a user page must not show: development tickets, sections and file of the specification, its
#: guessed-number marks, its source ids
INTERNAL = re.compile(r"\bissues?\s*#?\d+|§|formulas[._]md|shared/spec|\(#\?\)|\bseed\s+0\d\d\b|\(item \d+|\bsources? S\d\b", re.I)

#: raw TeX math delimiters: what a reader sees where MathJax did not run
RAW_MATH = ("\\(", "\\)", "\\[", "\\]", "$$")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once for this module with -W (every derivation run in quick mode)."""
    if os.environ.get("SYMHESS_DOCS_BUILT"):  # development: check a site built beforehand, same command
        return Path(os.environ["SYMHESS_DOCS_BUILT"])
    if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_parser") is None:
        pytest.fail('sphinx/myst-parser not installed: they are in the test extra, pip install -e ".[test]"')
    tmp = tmp_path_factory.mktemp("docs")
    out = tmp / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(ROOT / "docs"), str(out), "-d", str(tmp / "doctrees")],
                          capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)


def _text(page: Path) -> str:
    """All the text of an HTML page, code blocks included (scripts and styles left out)."""
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def test_docs_build_with_warnings_as_errors(site):
    out = site
    # the formula pages come from the exporter: the erf page shows the determinant and every block
    erf = (out / "math" / "generated" / "blocks-erf.html").read_text()
    for label in ("eq-erf-Delta-ik", "eq-erf-WW-ik", "eq-erf-Wv-ii", "eq-erf-vv-ik", "eq-erf-res-WW-ik"):
        assert f'id="equation-{label.lower()}"' in erf, label
    # every derivation has a gallery page that ran and shows its figures
    for script in SCRIPTS:
        page = (out / "gallery" / "generated" / f"{script.stem}.html").read_text()
        assert "passed its asserts" in page, script.name
        for fig in re.findall(r'<img [^>]*src="([^"]+)"', page):
            assert (out / "gallery" / "generated" / fig).resolve().is_file(), fig
    # the API reference documents every exported name
    import symhess

    for name in symhess._EXPORTS:
        assert (out / "api" / "generated" / f"symhess.{name}.html").is_file(), name


def test_pages_load_nothing_from_the_network(site):
    """MathJax and every script, style sheet and image come with the site: no page refers to a remote
    one (a reader offline sees the page as it was built)."""
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    remote = re.compile(r'<(?:script|link|img)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', re.I)
    offenders = {str(p.relative_to(site)): remote.findall(p.read_text(encoding="utf-8")) for p in _pages(site)}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, offenders
    erf = (site / "math" / "generated" / "blocks-erf.html").read_text()
    assert re.search(r'<script [^>]*src="../../_static/mathjax/tex-chtml.js[?"]', erf)


def test_no_page_cites_tickets_or_specification_sections(site):
    """User pages cite the papers and symhess's own pages, never a development ticket ("issue 3") or a
    section of a specification file users do not have ("formulas.md §A6"); code blocks included."""
    found = {}
    for page in _pages(site):
        hits = sorted({m.group(0) for m in INTERNAL.finditer(_text(page))})
        if hits:
            found[str(page.relative_to(site))] = hits
    assert not found, f"{len(found)} pages cite internal references: {found}"


def test_the_landing_page_example_prints_what_the_page_shows():
    """docs/index.md's ten-line example, run as written, prints exactly its "Output:" block."""
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```\s*\nOutput:\s*\n\s*```text\n(.*?)```", text, re.S)
    assert match, "the landing page has a python block followed by its Output: block"
    code, shown = match.groups()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == shown.split(), proc.stdout


# -- in a real browser -----------------------------------------------------------------------------


def _chromium():
    """A headless Chromium driver (tests/headless_chromium.py), or a skip saying why."""
    from headless_chromium import Chromium, find_chromium

    if find_chromium() is None:
        reason = ("no Chromium: the browser checks of the docs site need Debian's chromium package "
                  "(apt-get install chromium; .ci/run installs it)")
        if os.environ.get("SYMHESS_REQUIRE_CHROMIUM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return Chromium


@pytest.fixture(scope="module")
def seen(site) -> dict:
    """What headless Chromium, offline, shows of every page once MathJax has run."""
    chromium = _chromium()
    with chromium(width=1400, height=1000) as browser:
        reports = {str(page.relative_to(site)): browser.inspect(page) for page in _pages(site)}
        reports["<remote requests>"] = browser.remote_requests
    return reports


def test_the_browser_check_can_fail(tmp_path):
    """A page that loads MathJax from a CDN shows raw TeX offline, and the check says so."""
    chromium = _chromium()
    page = tmp_path / "remote.html"
    page.write_text('<html><head><script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js">'
                    '</script></head><body><p>loss <span class="math">\\(f(x) = \\sum_i v_i\\)</span></p>'
                    '<pre>\\(kept in code\\)</pre></body></html>')
    with chromium() as browser:
        report = browser.inspect(page)
        assert browser.remote_requests and "cdn.jsdelivr.net" in browser.remote_requests[0]
    assert "\\(f(x)" in report["text"] and report["untypeset"] and not report["mathjax"]
    assert "kept in code" not in report["text"]  # code blocks are not "visible text" of the check


def test_math_renders_offline_on_every_page(seen):
    remote = seen.pop("<remote requests>")
    assert not remote, f"pages asked the network for {remote}"
    problems = {}
    for page, report in seen.items():
        issues = []
        raw = [d for d in RAW_MATH if d in report["text"]]
        if raw:
            at = report["text"].find(raw[0])
            issues.append(f"raw {raw} in the visible text: ...{report['text'][max(0, at - 60):at + 60]!r}")
        if report["math"] and not report["mathjax"]:
            issues.append("MathJax did not load")
        if report["untypeset"]:
            issues.append(f"{len(report['untypeset'])} formulas not typeset, e.g. {report['untypeset'][0]!r}")
        if report["errors"]:
            issues.append(f"MathJax errors: {report['errors'][:3]}")
        broken = [img["src"] for img in report["images"] if not img["ok"]]
        if broken:
            issues.append(f"images that did not load: {broken}")
        if issues:
            problems[page] = issues
    assert not problems, problems
    # the check saw real math: the formula pages are full of it, and all of it was typeset
    erf = seen["math/generated/blocks-erf.html"]
    assert erf["math"] >= 15 and erf["typeset"] >= erf["math"]
    assert seen["index.html"]["typeset"] >= 3


def test_no_page_shows_tickets_or_specification_sections(seen):
    shown = {page: sorted({m.group(0) for m in INTERNAL.finditer(r["text"])})
             for page, r in seen.items() if isinstance(r, dict)}
    shown = {k: v for k, v in shown.items() if v}
    assert not shown, shown


def test_the_gallery_shows_a_thumbnail_per_derivation(site, seen):
    gallery = seen["gallery/index.html"]
    thumbs = [img for img in gallery["images"] if "sd-card-img-top" in img["cls"]]
    assert all(img["ok"] for img in thumbs), [img["src"] for img in thumbs if not img["ok"]]
    assert len(thumbs) == len(SCRIPTS), (len(thumbs), len(SCRIPTS))
    source = (site / "gallery" / "index.html").read_text(encoding="utf-8")
    cards = [c[:c.find("</a>", c.find("sd-stretched-link"))] for c in source.split('<div class="sd-card ')[1:]]
    for script in SCRIPTS:
        figures = sorted((ROOT / "docs" / "gallery" / "generated" / script.stem / "files").glob("*.png"))
        assert figures, f"{script.name} wrote no figure"
        card = [c for c in cards if f"generated/{script.stem}.html" in c]
        assert len(card) == 1, script.name
        assert "sd-card-img-top" in card[0] and figures[0].name in card[0], script.name
        title = re.sub(r"<[^>]+>", "", re.search(r'sd-card-title[^>]*>(.*?)</div>', card[0], re.S).group(1))
        assert title.strip() and script.stem not in title, (script.name, title)  # a real title, not a file name
    # grouped by paper, in the order of the papers
    headings = [h for h in re.findall(r"<h2>(.*?)<a", source)]
    assert [h for h in headings if "Couto" in h or "Pennington" in h or "Garrod" in h] == headings[:3], headings


def test_code_blocks_show_whole_lines(seen):
    """No code block hides text behind its right edge (long lines wrap): the first block of the rank
    page keeps its comments."""
    hidden = {page: r["overflow"] for page, r in seen.items() if isinstance(r, dict) and r["overflow"]}
    assert not hidden, hidden
    assert "# exact rank over Q" in seen["rank.html"]["code"][0]
