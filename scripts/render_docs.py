"""Run the documentation's pages and write what they print and plot into docs/generated/.

The pages never show pasted output: each block's output include and each figure
(see ``scripts/docs_code.py`` for the conventions) is filled from a real run, by this
script, before ``mkdocs build`` (the ``docs`` nox session runs it first). Pages run in
parallel, each in a fresh process on the backend named by ``KERAS_BACKEND`` (JAX by
default), from a temporary working directory.

    python scripts/render_docs.py            # quick: small synthetic data, about a minute
    python scripts/render_docs.py --real     # the real data sets (ANYKERAS_DATA_DIR), minutes
    python scripts/render_docs.py --page docs/tutorial.md
    python scripts/render_docs.py --check    # run nothing: are all the outputs there?

It also writes ``docs/generated/render-info.md`` (and its translations), which the
tutorial shows, saying how the outputs were made. It fails if a page includes a file
that no block produced, or shows a figure that no block drew.
"""

# ruff: noqa: RUF001 (Persian text, whose letters look like Latin ones to ruff)

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_code  # the sibling module, found through the path set above

ROOT = docs_code.ROOT
GENERATED = ROOT / docs_code.GENERATED
BACKEND_NAMES = {"jax": "JAX", "torch": "PyTorch", "tensorflow": "TensorFlow"}

INFO = {
    "en": (
        "Every output and figure on this page was produced by `scripts/render_docs.py`, "
        "which ran the page's code with Keras {keras} on the {backend} backend, on "
        "{device}, {data}. On another backend, or another machine, the numbers differ a "
        "little: each backend draws its own initial weights and rounds in its own order."
    ),
    "fa": (
        "همهٔ خروجی‌ها و نمودارهای این صفحه را `scripts/render_docs.py` ساخته است: کد صفحه "
        "با Keras {keras} روی بک‌اند {backend} و روی {device} اجرا شده، {data}. روی "
        "بک‌اند یا ماشین دیگری عددها کمی فرق می‌کنند: هر بک‌اند وزن‌های اولیهٔ خودش را "
        "می‌سازد و محاسبه را به ترتیب خودش گرد می‌کند."
    ),
}
DATA = {
    ("en", True): "with the quick switch on (`ANYKERAS_DOCS_QUICK=1`: small synthetic data)",
    ("en", False): "with the real data sets",
    ("fa", True): "با کلید حالت سریع (`ANYKERAS_DOCS_QUICK=1`: داده‌های مصنوعی کوچک)",
    ("fa", False): "با داده‌های واقعی",
}
DEVICE = {
    ("en", "cpu"): "a CPU",
    ("en", "gpu"): "a GPU",
    ("fa", "cpu"): "CPU",
    ("fa", "gpu"): "GPU",
}


def environment_info(backend: str) -> dict[str, str]:
    """Keras's version and the device, asked in a process on ``backend``."""
    code = (
        "import json, keras; from anykeras.devices import current_device; "
        "print(json.dumps({'keras': keras.__version__, 'device': current_device()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_info(backend: str, quick: bool) -> None:
    """Write ``render-info.md`` and its translations into docs/generated/."""
    info = environment_info(backend)
    kind = "gpu" if info["device"].startswith("gpu") else "cpu"
    for lang, template in INFO.items():
        text = template.format(
            keras=info["keras"],
            backend=BACKEND_NAMES.get(backend, backend),
            device=DEVICE[lang, kind],
            data=DATA[lang, quick],
        )
        name = "render-info.md" if lang == "en" else f"render-info.{lang}.md"
        (GENERATED / name).write_text(text + "\n", encoding="utf-8")


def collect(page: Path, run: docs_code.PageRun) -> list[str]:
    """Write ``run``'s outputs and copy its figures into place; return what is missing."""
    problems = []
    for include, text in run.outputs.items():
        target = ROOT / include
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    info = f"{docs_code.GENERATED}/render-info"
    for include in docs_code.includes(page):
        if include not in run.outputs and not include.startswith(info):
            problems.append(f"{page.name}: includes {include}, which no block of the page writes")
    for figure in docs_code.figures(page):
        name = Path(figure).name
        found = sorted(run.workdir.rglob(name))
        if len(found) != 1:
            problems.append(
                f"{page.name}: shows {figure}, but the run wrote {len(found)} files named {name}"
            )
            continue
        target = docs_code.DOCS / figure
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found[0], target)
    return problems


def missing_outputs(docs: Path = docs_code.DOCS) -> list[str]:
    """The outputs and figures that pages under ``docs`` show and docs/generated/ lacks.

    As the pages name them (``docs/generated/...``), for a site-only build to refuse.

    Example:
    >>> missing_outputs(Path(tempfile.mkdtemp()))
    []
    """
    missing = []
    for page in sorted(docs.rglob("*.md")):
        missing += [i for i in docs_code.includes(page) if not (ROOT / i).is_file()]
        missing += [f"docs/{f}" for f in docs_code.figures(page) if not (docs / f).is_file()]
    return sorted(set(missing))


def main(argv: list[str] | None = None) -> int:
    """Render every executed page (or those given with ``--page``); ``--check``: only look."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="use the real data sets")
    parser.add_argument("--page", type=Path, action="append", help="render only this page")
    parser.add_argument("--jobs", type=int, default=2, help="pages run at the same time")
    parser.add_argument(
        "--check", action="store_true", help="run nothing; fail if an output is missing"
    )
    args = parser.parse_args(argv)
    if args.check:
        missing = missing_outputs()
        if missing:
            print(
                f"render_docs: docs/generated/ lacks {len(missing)} of the pages' outputs "
                f"({missing[0]}{', ...' if len(missing) > 1 else ''}): "
                "run `nox -s docs` first, which generates them",
                file=sys.stderr,
            )
        return 1 if missing else 0

    backend = os.environ.setdefault("KERAS_BACKEND", "jax")
    pages = [p.resolve() for p in args.page] if args.page else docs_code.executed_pages()
    GENERATED.mkdir(parents=True, exist_ok=True)
    write_info(backend, quick=not args.real)
    print(
        f"render_docs: {len(pages)} pages on {backend}, "
        f"{'real data' if args.real else 'quick (synthetic data)'}",
        flush=True,
    )

    scratch = Path(tempfile.mkdtemp(prefix="render-docs-"))

    def render(page: Path) -> tuple[Path, docs_code.PageRun | Exception, float]:
        started = time.perf_counter()
        try:
            run = docs_code.run_page(
                page, quick=not args.real, workdir=scratch / page.stem, timeout=3600
            )
        except docs_code.PageError as error:
            return page, error, time.perf_counter() - started
        return page, run, time.perf_counter() - started

    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for page, result, seconds in pool.map(render, pages):
            name = page.relative_to(docs_code.DOCS)
            if isinstance(result, Exception):
                problems.append(str(result))
                print(f"  FAILED {name} ({seconds:.0f} s)", flush=True)
                continue
            problems += collect(page, result)
            print(f"  {name}: {len(result.outputs)} outputs ({seconds:.0f} s)", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
