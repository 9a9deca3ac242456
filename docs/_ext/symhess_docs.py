"""Sphinx extension: the pages of the docs site that are generated, never typed by hand.

Runs once per build, on ``config-inited`` (before Sphinx looks for source files), and writes:

* ``math/generated/*.md`` — the derived formulas in paper notation, one page per activation plus
  the counting rules and the linear spectral law, produced by :mod:`symhess.export` (the same
  equations as ``symhess paper``, as MyST ``$$`` blocks with numbered labels, and their LaTeX);
* ``gallery/generated/*.rst`` — one page per ``derivations/NN_*.py`` script: the script is run in
  quick mode (``--quick --out DIR``, in parallel subprocesses), its docstring, printed output,
  figures and text outputs are shown, then its source. A failing script is a build warning
  (an error under ``-W``). Results are cached on the hash of the script and of the ``symhess``
  sources, so a rebuild without changes runs nothing;
* ``api/index.rst`` — autosummary tables of every public name in ``symhess._EXPORTS``, grouped by
  pipeline stage (stub pages go to ``api/generated/``).

Set ``SYMHESS_DOCS_GALLERY=0`` to show the gallery scripts without running them (a fast local build).
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]

#: activations of the formula pages: (spec, symbolic parameters, page name, title)
MATH_ACTIVATIONS = (
    ("linear", False, "linear", "Linear"),
    ("quadratic", True, "quadratic", "Quadratic"),
    ("erf", False, "erf", "Error function, erf(z)"),
    ("erf:scale=sqrt(2)/2", False, "erf-saad-solla", "Error function, erf(z/√2) (Saad–Solla)"),
    ("relu", False, "relu", "ReLU"),
    ("poly:coeffs=[1,1,1]", True, "polynomial", "Polynomial (symbolic coefficients)"),
    ("tanh", False, "tanh", "tanh (no closed form)"),
    ("abrelu:a=-1/2,b=2", False, "abrelu", "ABReLU, a min(z,0) + b max(z,0) (a = -1/2, b = 2)"),
    ("leaky_relu:slope=1/10", False, "leaky-relu", "Leaky ReLU (slope 1/10)"),
    ("abs", False, "abs", "Absolute value |z|"),
    ("gelu", False, "gelu", "GELU, z Φ(z)"),
    ("sin", False, "sin", "sin(z)"),
    ("cos", False, "cos", "cos(z)"),
    ("rbf", False, "rbf", "RBF unit √2 sin(√(2γ) z + π/4) (γ = 1)"),
    ("exp", False, "exp", "exp(z)"),
    ("gaussian", False, "gaussian", "Gaussian bump exp(-z²/2)"),
    ("hermite:coeffs=[0,1,1]", False, "hermite", "Hermite expansion He_1 + He_2"),
)

#: the pipeline stages in order, with a heading for the API reference
STAGES = (
    ("errors", "Errors"), ("activations", "Activations"), ("model", "Models and teachers"),
    ("derivation", "Derivation"), ("expectation", "Gaussian expectations"),
    ("kernels", "Numerical kernels"), ("analysis", "Analysis: spectra, ranks, laws"),
    ("export", "Export: LaTeX and documents"), ("check", "Checking a derivation"),
    ("sweep", "Sweeps"),
)

GALLERY_TIMEOUT_S = 300


def _write(path: Path, text: str) -> None:
    """Write only when the content changes (keeps Sphinx's incremental rebuild incremental)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


# -- formula pages ---------------------------------------------------------------------------------


def _latex_block(tex: str) -> str:
    return "```latex\n" + tex + "\n```"


def _activation_page(spec: str, symbolic: bool, page: str, title: str) -> str:
    import symhess
    from symhess.export import PaperLatexPrinter, block_equations, render_equations, symbolic_activation
    from symhess.export.formats import markdown_equations
    from symhess.symbols import z

    act = symbolic_activation(spec) if symbolic else symhess.activation(spec)
    sigma = PaperLatexPrinter().doprint(act.expr(z))
    out = [f"# {title}", "", f"$$\n\\sigma(z) = {sigma}\n$$", "",
           f"Spec `{act.spec}`. Reproduce: `symhess derive -a {spec}{' --symbolic' if symbolic else ''} "
           f"-f latex` (or `-f markdown`, `-f sympy`, `-f python`)."]
    for part, heading in (("gauss_newton", "At the optimum"), ("residual", "Residual part away from the optimum")):
        blocks = symhess.derive_blocks(act, part)
        routes = sorted({r for blk in blocks.values() for r in blk.routes.values()})
        eqs = block_equations(blocks, label_prefix=page)  # residual labels get their own "res"
        out += ["", f"## {heading}", "", f"Gaussian expectations: {'; '.join(routes)}.", ""]
        if part == "residual":
            out += ["Contribution of one residual unit $k$ (student units with $s_k = v_k$, teacher units "
                    "with $s_k = -v^\\star_k$); it is nonzero only within one hidden unit $i$.", ""]
        out += [markdown_equations(eqs, label=True), "", f"### LaTeX ({heading.lower()})", "",
                _latex_block(render_equations(eqs))]
    return "\n".join(out) + "\n"


def _counting_page() -> str:
    from symhess.export import COUNTING_RULES, render_equations
    from symhess.export.formats import markdown_equations
    from symhess.export.rules import counting_equations

    eqs = counting_equations()
    out = ["# Counting rules: the effective number of parameters", "",
           "The rank of the Hessian at the optimum, $N_{\\mathrm{eff}}$, for $N_i$ inputs and $N_h$ hidden "
           "units; $\\Theta$ is the Heaviside step (at $N_i = N_h$ the term it multiplies vanishes). "
           "The same rules are implemented independently, on integers, in `symhess.two_layer.counting`; "
           "the tests compare the two after parsing these equations back.",
           ""]
    for rule, eq in zip(COUNTING_RULES, eqs):
        out += [f"**{rule.key}** — {rule.activations} ({rule.source}).", "", markdown_equations([eq], label=True), ""]
    out += ["## LaTeX", "", _latex_block(render_equations(eqs))]
    return "\n".join(out) + "\n"


def _law_page() -> str:
    from symhess.export import render_equations
    from symhess.export.formats import markdown_equations
    from symhess.export.rules import linear_law_equations

    eqs = linear_law_equations()
    out = ["# Spectrum of the linear network", "",
           "For $\\sigma(z) = z$ the nonzero eigenvalues of the Hessian at the optimum are $\\lambda = s + \\mu$: "
           "one shift $s = \\lVert v\\rVert^2 \\sim \\sigma_v^2\\chi^2_{N_h}$ shared by all, and $\\mu$ an eigenvalue "
           "of $W^\\top W$ (scaled Marchenko–Pastur, edges $\\mu_\\pm$), for a teacher with "
           "$W_{ij}\\sim\\mathcal N(0, \\sigma_w^2)$, $v_i\\sim\\mathcal N(0, \\sigma_v^2)$. The density of the "
           "$N_i$ nonzero eigenvalues is $\\rho_+$; over all $P$ eigenvalues it is "
           "$(1 - N_i/P)\\,\\delta(\\lambda) + (N_i/P)\\,\\rho_+(\\lambda)$.", "",
           markdown_equations(eqs, label=True), "", "## LaTeX", "", _latex_block(render_equations(eqs))]
    return "\n".join(out) + "\n"


def generate_math(srcdir: Path) -> list[str]:
    """Write the formula pages; returns their document names."""
    gen = srcdir / "math" / "generated"
    pages = {}
    for spec, symbolic, page, title in MATH_ACTIVATIONS:
        pages[f"blocks-{page}"] = _activation_page(spec, symbolic, page, title)
    pages["counting-rules"] = _counting_page()
    pages["linear-law"] = _law_page()
    for name, text in pages.items():
        _write(gen / f"{name}.md", text)
    for old in gen.glob("*.md"):
        if old.stem not in pages:
            old.unlink()
    return [f"math/generated/{name}" for name in pages]


# -- the derivations gallery ---------------------------------------------------------------------


def _source_hash() -> str:
    h = hashlib.sha256()
    for path in sorted((ROOT / "symhess").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _run_script(script: Path, out: Path, stamp: str) -> dict:
    """Run one derivation script in quick mode (cached on ``stamp``)."""
    stamp_file = out / ".stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return {"cached": True, "rc": 0, "seconds": float((out / ".seconds").read_text())}
    if out.exists():
        shutil.rmtree(out)
    files = out / "files"
    files.mkdir(parents=True)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(files)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=GALLERY_TIMEOUT_S, stdin=subprocess.DEVNULL)
        rc, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, stdout, stderr = -1, exc.stdout or "", f"timed out after {GALLERY_TIMEOUT_S} s"
        stdout = stdout.decode(errors="replace") if isinstance(stdout, bytes) else stdout
    seconds = time.perf_counter() - start
    (out / "stdout.txt").write_text(stdout, encoding="utf-8")
    (out / "stderr.txt").write_text(stderr, encoding="utf-8")
    (out / ".seconds").write_text(f"{seconds:.1f}")
    if rc == 0:
        stamp_file.write_text(stamp)
    return {"cached": False, "rc": rc, "seconds": seconds, "stderr": stderr}


def _docstring(script: Path) -> tuple[str, str]:
    """(title, body) of the script's module docstring (an RST title, or the file name)."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    lines = doc.strip("\n").splitlines()
    if len(lines) >= 2 and lines[1].strip() and set(lines[1].strip()) <= set("=-~^*#"):
        return lines[0].strip(), "\n".join(lines[2:]).strip()
    return script.stem, doc.strip()


#: docutils messages that only mean "a Sphinx role or directive" (Sphinx knows them)
_SPHINX_ONLY = re.compile(r"Unknown interpreted text role|No role entry|Unknown directive type|No directive entry")


def _rst_problems(text: str) -> list[str]:
    """The docutils warnings and errors that ``text`` raises as reStructuredText (Sphinx roles aside)."""
    import io

    from docutils import nodes
    from docutils.core import publish_doctree

    tree = publish_doctree(text, settings_overrides={"report_level": 5, "halt_level": 5,
                                                     "warning_stream": io.StringIO()})
    out = []
    for msg in tree.findall(nodes.system_message):
        if msg["level"] >= 2 and not _SPHINX_ONLY.search(msg.astext()):
            out.append(msg.astext())
    return out


def _safe_rst(text: str) -> str:
    r"""``text`` as it is when it is valid reStructuredText; else with ``| * ` _ \`` escaped
    (prose written without RST in mind: ``|v|^2``, ``chi^2_Nh``); else as a literal block."""
    if not _rst_problems(text):
        return text
    for chars in (r"|*", r"|*_", r"|*_`\\"):  # keep ``literals`` and \ when escaping less suffices
        escaped = re.sub(f"([{re.escape(chars)}])", r"\\\1", text)
        if not _rst_problems(escaped):
            return escaped
    return "::\n\n" + "\n".join(f"   {line}" for line in text.splitlines())


def _literal(text: str, max_lines: int = 80, language: str = "text") -> str:
    lines = text.rstrip().splitlines() or ["(no output)"]
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
    return f".. code-block:: {language}\n\n" + "\n".join(f"   {line}" for line in lines) + "\n"


def _gallery_page(script: Path, out: Path, result: dict | None) -> str:
    title, body = _docstring(script)
    rel = os.path.relpath(script, out.parent)
    title = re.sub(r"([|*`_\\])", r"\\\1", title) if _rst_problems(title) else title
    parts = [f".. _gallery-{script.stem}:", "", title, "=" * max(len(title), 3), "", _safe_rst(body), ""]
    if "Run:" not in body:
        parts += [f"Run: ``python derivations/{script.name} [--quick] [--out DIR]``", ""]
    if result is None:
        parts += ["*Not run in this build* (``SYMHESS_DOCS_GALLERY=0``).", ""]
    else:
        status = "passed its asserts" if result["rc"] == 0 else f"FAILED (exit status {result['rc']})"
        parts += ["Output (quick mode)", "-------------------", "",
                  f"Quick run at documentation build: {status} ({result['seconds']:.1f} s wall time on the build machine).", ""]
        for fig in sorted((out / "files").glob("*.png")) + sorted((out / "files").glob("*.svg")):
            parts += [f".. figure:: {out.name}/files/{fig.name}", "   :width: 100%", "", f"   ``{fig.name}``", ""]
        parts += [_literal((out / "stdout.txt").read_text(encoding="utf-8")), ""]
        for txt in sorted((out / "files").iterdir()):
            if txt.suffix in (".txt", ".tex", ".md", ".csv", ".json"):
                lang = "latex" if txt.suffix == ".tex" else "text"  # a lexer error would fail -W
                parts += [f"``{txt.name}``:", "", _literal(txt.read_text(encoding="utf-8", errors="replace"),
                                                           language=lang), ""]
    parts += ["Source", "------", "", f".. literalinclude:: {rel}", "   :language: python", ""]
    return "\n".join(parts)


def generate_gallery(srcdir: Path, run: bool = True) -> list[str]:
    """Run the derivation scripts in quick mode and write one page each; returns the document names."""
    gen = srcdir / "gallery" / "generated"
    gen.mkdir(parents=True, exist_ok=True)
    scripts = sorted((ROOT / "derivations").glob("[0-9][0-9]_*.py"))
    results: dict[Path, dict | None] = dict.fromkeys(scripts)
    if run:
        code = _source_hash()
        stamps = {s: hashlib.sha256(s.read_bytes() + code.encode()).hexdigest() for s in scripts}
        workers = max(1, min(len(scripts), os.cpu_count() or 2))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {s: pool.submit(_run_script, s, gen / s.stem, stamps[s]) for s in scripts}
            results = {s: f.result() for s, f in futures.items()}
        for script, res in results.items():
            if res["rc"] != 0:
                tail = "\n".join(res.get("stderr", "").strip().splitlines()[-15:])
                logger.warning(f"derivation {script.name} failed in quick mode (exit {res['rc']}):\n{tail}",
                               type="symhess", subtype="gallery")
        ran = [f"{s.stem} {r['seconds']:.0f}s{' (cached)' if r['cached'] else ''}" for s, r in results.items()]
        logger.info(f"[symhess] derivations gallery: {', '.join(ran)}")
    names = []
    for script in scripts:
        out = gen / script.stem
        out.mkdir(parents=True, exist_ok=True)
        _write(gen / f"{script.stem}.rst", _gallery_page(script, out, results[script]))
        names.append(f"gallery/generated/{script.stem}")
    for old in gen.glob("*.rst"):
        if not (ROOT / "derivations" / f"{old.stem}.py").exists():
            old.unlink()
    return names


# -- the API reference -------------------------------------------------------------------------


def generate_api(srcdir: Path) -> None:
    """``api/index.rst``: one autosummary table per pipeline stage, from ``symhess._EXPORTS``."""
    import symhess

    groups: dict[str, list[str]] = {}
    for name, module in symhess._EXPORTS.items():
        groups.setdefault(module.split(".")[1], []).append(name)
    known = [key for key, _ in STAGES]
    headings = dict(STAGES)
    lines = ["API reference", "=============", "",
             "Every public name of ``symhess`` (the lazily imported ``symhess._EXPORTS``), grouped by",
             "pipeline stage. ``import symhess`` stays light: each name imports its module on first use.",
             "The modules behind them are listed in :doc:`../pipeline`.", ""]
    for stage in known + sorted(set(groups) - set(known)):
        if stage not in groups:
            continue
        title = headings.get(stage, stage.capitalize())
        lines += [title, "-" * len(title), "", ".. autosummary::", "   :toctree: generated", ""]
        lines += [f"   symhess.{name}" for name in sorted(groups[stage], key=str.lower)]
        lines.append("")
    _write(srcdir / "api" / "index.rst", "\n".join(lines))


def _attribute_doc(short: str) -> list[str]:
    """The ``#:`` doc comment of a module-level name exported by ``symhess``, searched in its module
    and that module's submodules."""
    import importlib
    import pkgutil

    import symhess
    from sphinx.pycode import ModuleAnalyzer

    module = symhess._EXPORTS.get(short)
    if module is None:
        return []
    candidates = [module]
    pkg = importlib.import_module(module)
    if hasattr(pkg, "__path__"):
        candidates += [f"{module}.{info.name}" for info in pkgutil.iter_modules(pkg.__path__)]
    for mod in candidates:
        try:
            docs = ModuleAnalyzer.for_module(mod).find_attr_docs()
        except Exception:  # noqa: BLE001  (a module without source: nothing to find)
            continue
        if ("", short) in docs:
            return list(docs[("", short)])
    return []


def _data_docstring(app, what, name, obj, options, lines) -> None:
    """A re-exported constant (``symhess.ACTIVATIONS``) gets its ``#:`` comment, not ``dict``'s docstring."""
    if what not in ("data", "attribute") or callable(obj) or isinstance(obj, type):
        return
    own = (type(obj).__doc__ or "").strip().splitlines()
    if lines and own and lines[0].strip() == own[0].strip():
        lines[:] = _attribute_doc(name.rsplit(".", 1)[-1]) or [f"A ``{type(obj).__name__}``."]


# -- Sphinx hooks ----------------------------------------------------------------------------------


def _generate(app, config) -> None:
    srcdir = Path(app.srcdir)
    start = time.perf_counter()
    generate_api(srcdir)
    generate_math(srcdir)
    generate_gallery(srcdir, run=os.environ.get("SYMHESS_DOCS_GALLERY", "1") != "0")
    logger.info(f"[symhess] generated pages in {time.perf_counter() - start:.1f} s")


def setup(app):
    app.connect("config-inited", _generate)
    app.connect("autodoc-process-docstring", _data_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
