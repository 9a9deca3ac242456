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
* ``gallery/generated/cards.md`` — the gallery's thumbnails (each derivation's first figure), grouped
  by paper (``PAPERS``), included by ``gallery/index.md``;
* ``gallery/generated/_landing/spectrum.png`` — the landing page's figure, a spectrum against its law;
* ``api/index.rst`` — autosummary tables of every public name in ``symhess._EXPORTS``, grouped by
  pipeline stage (stub pages go to ``api/generated/``).

Set ``SYMHESS_DOCS_GALLERY=0`` to show the gallery scripts without running them (a fast local build),
or ``SYMHESS_DOCS_GALLERY=02,40`` to run only the scripts whose names start with those prefixes.

It also serves MathJax from the site itself (``_static/mathjax/``, copied from the
``sphinx-mathjax-offline`` package), so the formulas render on a machine without network access.
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
    ("errors", "Errors"), ("activations", "Activations"), ("expectation", "Gaussian expectations"),
    ("linalg", "Exact and certified linear algebra"),
    ("two_layer", "Two-layer networks: Hessians, ranks, spectra, dynamics"),
    ("free_probability", "Free probability: the Pennington–Bahri law"),
    ("ufm", "Deep unconstrained feature models"),
    ("deep", "Deeper networks: exact Hessians and neurovariety dimensions"),
    ("export", "Export: LaTeX and documents"), ("check", "Checking a derivation"), ("sweep", "Sweeps"),
)

GALLERY_TIMEOUT_S = 300

#: the gallery's sections: (key, first digits of the scripts' numbers, heading, one-line description)
PAPERS = (
    ("couto", "01234",
     "Teacher–student networks near the optimum (Couto, Mourão, Figueiredo & Ribeiro, 2025)",
     'C. Couto, J. Mourão, M. A. T. Figueiredo, P. Ribeiro, "A Teacher-Student Perspective on the Dynamics '
     'of Learning Near the Optimal Point", arXiv:2512.15606: Hessian blocks, rank and spectra at the optimum, '
     "learning dynamics. See {doc}`../references`."),
    ("pennington-bahri", "5",
     "Wishart + Wigner Hessians by free probability (Pennington & Bahri, 2017)",
     'J. Pennington, Y. Bahri, "Geometry of Neural Network Loss Surfaces via Random Matrix Theory", '
     "ICML 2017: the spectrum of $H_0 + H_1$, the critical energy and the index. See {doc}`../pennington_bahri`."),
    ("garrod-keating", "6",
     "The deep linear unconstrained feature model (Garrod & Keating, 2024)",
     'C. Garrod, J. P. Keating, "Unifying Low Dimensional Observations in Deep Learning Through the Deep '
     'Linear Unconstrained Feature Model", arXiv:2404.06106: neural collapse, Kronecker-factored Hessians '
     "and their $K^2$ outliers. See {doc}`../ufm`."),
    ("deep", "7",
     "Deeper networks and neurovarieties (Kileel, Trager & Bruna, 2019; Finkel, Rodriguez, Wu & Yahl, 2024)",
     'J. Kileel, M. Trager, J. Bruna, "On the Expressive Power of Deep Polynomial Neural Networks", NeurIPS 2019; '
     'B. Finkel, J. I. Rodriguez, C. Wu, T. Yahl, "Activation Degree Thresholds and Expressiveness of Polynomial '
     'Neural Networks", 2024: the rank of the expected Hessian of deep polynomial networks as the dimension of '
     "their neurovariety. See {doc}`../deep`."),
)


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


def _script_env() -> dict:
    """The environment of the scripts run at build time: no display, fixed hashing, and one BLAS
    thread each (they run in parallel, one per core; a multithreaded BLAS on a busy machine spends
    ten times the CPU time on the same eigendecompositions). A thread count set by the user is kept."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
           "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def _run_script(script: Path, out: Path, stamp: str) -> dict:
    """Run one derivation script in quick mode (cached on ``stamp``)."""
    stamp_file = out / ".stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return {"cached": True, "rc": 0, "seconds": float((out / ".seconds").read_text())}
    if out.exists():
        shutil.rmtree(out)
    files = out / "files"
    files.mkdir(parents=True)
    env = _script_env()
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
    title, body = _docstring_text(doc)
    return title or script.stem, body


def _docstring_text(doc: str) -> tuple[str, str]:
    """(title, body) of a docstring that starts with an RST title ("" when it has none)."""
    lines = doc.strip("\n").splitlines()
    for n in range(1, min(len(lines), 4)):  # a title of up to three lines, then its underline
        if not lines[n - 1].strip():
            break
        if lines[n].strip() and set(lines[n].strip()) <= set("=-~^*#"):
            return " ".join(line.strip() for line in lines[:n]), "\n".join(lines[n + 1:]).strip()
    return "", doc.strip()


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


def _thumbnail(out: Path) -> Path | None:
    """The first figure a derivation wrote (its gallery thumbnail), or None."""
    figs = sorted((out / "files").glob("*.png")) + sorted((out / "files").glob("*.svg"))
    return figs[0] if figs else None


def _paper_of(script: Path) -> str:
    for key, prefixes, _, _ in PAPERS:
        if script.name[0] in prefixes:
            return key
    return "other"


def _md_inline(text: str) -> str:
    """``text`` as literal MyST inline text (a card title)."""
    return re.sub(r"([\\`*_\[\]<>$|])", r"\\\1", text)


def _cards_page(scripts: list[Path], gen: Path) -> str:
    """MyST source of the gallery's cards: one section per paper, one card (thumbnail + title) per script."""
    out = ["<!-- generated by docs/_ext/symhess_docs.py: do not edit -->", ""]
    groups = [(key, heading, blurb) for key, _, heading, blurb in PAPERS] + [("other", "Other derivations", "")]
    for key, heading, blurb in groups:
        members = [s for s in scripts if _paper_of(s) == key]
        if not members:
            continue
        out += [f"## {heading}", ""]
        if blurb:
            out += [blurb, ""]
        out += ["::::{grid} 1 2 3 4", ":gutter: 3", ":class-container: symhess-gallery", ""]
        for script in members:
            title, _ = _docstring(script)
            thumb = _thumbnail(gen / script.stem)
            out += [f":::{{grid-item-card}} {_md_inline(title)}", f":link: gallery-{script.stem.lower()}",
                    ":link-type: ref", ":shadow: md"]
            if thumb is not None:
                out.append(f":img-top: /{thumb.relative_to(gen.parents[1]).as_posix()}")
                out.append(f":img-alt: figure of derivations/{script.name}")
            out += ["", f"`derivations/{script.name}`", ":::", ""]
        out += ["::::", ""]
    out += ["```{toctree}", ":hidden:", ""] + [f"generated/{script.stem}" for script in scripts] + ["```", ""]
    return "\n".join(out)


def _selected(scripts: list[Path], setting: str) -> set[Path]:
    """The scripts to run for SYMHESS_DOCS_GALLERY: "1" all, "0" none, "02,40" those name prefixes."""
    if setting.strip() in ("", "1"):
        return set(scripts)
    if setting.strip() == "0":
        return set()
    prefixes = tuple(p.strip() for p in setting.split(",") if p.strip())
    return {s for s in scripts if s.name.startswith(prefixes)}


def generate_gallery(srcdir: Path, run: bool | str = True) -> list[str]:
    """Run the derivation scripts in quick mode and write one page each, and the gallery's cards;
    returns the document names. ``run``: True/False for all/none, or a SYMHESS_DOCS_GALLERY string."""
    gen = srcdir / "gallery" / "generated"
    gen.mkdir(parents=True, exist_ok=True)
    scripts = sorted((ROOT / "derivations").glob("[0-9][0-9]_*.py"))
    selected = _selected(scripts, "1" if run is True else "0" if run is False else run)
    results: dict[Path, dict | None] = dict.fromkeys(scripts)
    if selected:
        code = _source_hash()
        stamps = {s: hashlib.sha256(s.read_bytes() + code.encode()).hexdigest() for s in selected}
        workers = max(1, min(len(selected), os.cpu_count() or 2))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {s: pool.submit(_run_script, s, gen / s.stem, stamps[s]) for s in sorted(selected)}
            results.update({s: f.result() for s, f in futures.items()})
        for script, res in results.items():
            if res is not None and res["rc"] != 0:
                tail = "\n".join(res.get("stderr", "").strip().splitlines()[-15:])
                logger.warning(f"derivation {script.name} failed in quick mode (exit {res['rc']}):\n{tail}",
                               type="symhess", subtype="gallery")
        ran = [f"{s.stem} {r['seconds']:.0f}s{' (cached)' if r['cached'] else ''}"
               for s, r in results.items() if r is not None]
        logger.info(f"[symhess] derivations gallery: {', '.join(ran)}")
    names = []
    for script in scripts:
        out = gen / script.stem
        out.mkdir(parents=True, exist_ok=True)
        if results[script] is None and (out / "files").is_dir() and not (out / ".stamp").exists():
            shutil.rmtree(out / "files")  # a failed earlier run: no stale figures on a page that did not run
        _write(gen / f"{script.stem}.rst", _gallery_page(script, out, results[script]))
        names.append(f"gallery/generated/{script.stem}")
    _write(gen / "cards.md", _cards_page(scripts, gen))
    for old in gen.glob("*.rst"):
        if not (ROOT / "derivations" / f"{old.stem}.py").exists():
            old.unlink()
    return names


# -- the landing page's figure ------------------------------------------------------------------


def generate_landing_figure(srcdir: Path) -> None:
    """``gallery/generated/_landing/spectrum.png``: the nonzero Hessian eigenvalues of random linear
    teachers at the optimum (assembled by ``expected_hessian``) against the law of eq. (15). Drawn in
    a subprocess with single-threaded BLAS, like the gallery scripts; cached on the symhess sources."""
    path = srcdir / "gallery" / "generated" / "_landing" / "spectrum.png"
    stamp = path.with_suffix(".stamp")
    code = _source_hash() + hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    if path.exists() and stamp.exists() and stamp.read_text() == code:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, __file__, "landing-figure", str(path)], cwd=ROOT, env=_script_env(),
                          capture_output=True, text=True, timeout=GALLERY_TIMEOUT_S, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        logger.warning(f"the landing page's figure failed:\n{proc.stderr[-2000:]}", type="symhess", subtype="landing")
        return
    stamp.write_text(code)


def _draw_landing_figure(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import symhess

    ni, nh, n_teachers = 10, 20, 300
    rng = np.random.default_rng(2512)
    pooled = []
    for _ in range(n_teachers):
        W, v = symhess.teacher(ni, nh, rng)
        pooled.append(np.linalg.eigvalsh(symhess.expected_hessian("linear", W, v))[-ni:])
    pooled = np.concatenate(pooled)
    law = symhess.linear_spectrum_law(ni, nh)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.hist(pooled, bins=70, density=True, color="#4c72b0", alpha=0.55,
            label=f"eigenvalues of expected_hessian, {n_teachers} random teachers")
    x = np.linspace(1e-3, np.quantile(pooled, 0.999), 600)
    ax.plot(x, law.pdf(x), "k", lw=1.8, label=r"law: scaled $\chi^2_{N_h}$ $\circledast$ Marchenko–Pastur")
    ax.set_xlabel(r"eigenvalue $\lambda$ of the Hessian at the optimum")
    ax.set_ylabel("density")
    ax.set_title(rf"linear teacher–student net, $N_i = {ni}$, $N_h = {nh}$: the $N_i$ nonzero eigenvalues",
                 fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, facecolor="white")
    plt.close(fig)


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
    generate_gallery(srcdir, run=os.environ.get("SYMHESS_DOCS_GALLERY", "1"))
    generate_landing_figure(srcdir)
    logger.info(f"[symhess] generated pages in {time.perf_counter() - start:.1f} s")


#: the parts of MathJax 3 the site serves: the TeX-to-HTML component, the TeX extensions it loads on
#: demand, its fonts, and the menu's accessibility modules
MATHJAX_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml", "a11y", "ui")


def _mathjax_source() -> Path:
    """MathJax 3 as shipped by the ``sphinx-mathjax-offline`` package (a docs dependency)."""
    import importlib.util

    from sphinx.errors import ExtensionError

    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError("the symhess docs serve MathJax themselves, from the sphinx-mathjax-offline "
                             'package: pip install -e ".[docs]"')
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"


def _use_local_mathjax(app, config) -> None:
    _mathjax_source()  # fail early, before any page is built, when it is missing
    config.mathjax_path = "mathjax/tex-chtml.js"  # under _static/ (add_js_file's rule)


def _copy_mathjax(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    src, dst = _mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part, dirs_exist_ok=True)
        else:
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / part, dst / part)


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    app.connect("config-inited", _generate)
    app.connect("autodoc-process-docstring", _data_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # the landing page's figure, in its own process (see generate_landing_figure)
    if len(sys.argv) == 3 and sys.argv[1] == "landing-figure":
        _draw_landing_figure(Path(sys.argv[2]))
    else:
        sys.exit("usage: symhess_docs.py landing-figure OUT.png")
