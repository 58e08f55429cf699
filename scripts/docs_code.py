"""Read the code blocks of a documentation page and run them as a reader would.

A page's fenced ```` ```python ```` blocks are its program: they run top to bottom in
one namespace, in a fresh Python process, from an empty working directory. Other
fences (```` ```bash ````, ```` ```text ````) are shown, never run.

Two conventions tie a page to what the build shows:

- **Outputs.** A block's printed output goes where the page includes it. When the
  first thing after a block is an include of a file under ``docs/generated/``
  (bare, or inside a ```` ```text ```` fence)::

      ```python
      print(model.count_params())
      ```

      ```text
      --8<-- "docs/generated/tutorial/params.txt"
      ```

  that block's standard output is written to that file by ``scripts/render_docs.py``,
  and ``pymdownx.snippets`` puts it in the page.
- **Figures.** An image ``![...](generated/<page>/<name>.png)`` is a file named
  ``<name>.png`` that the page's code writes somewhere under its working directory;
  the renderer copies it into ``docs/generated/<page>/``.

A block inside a content tab titled with a backend's name (``=== "JAX"``,
``=== "PyTorch"``, ``=== "TensorFlow"``) runs only on that backend.

``ANYKERAS_DOCS_QUICK=1`` in the environment is the pages' switch to small synthetic
data and few epochs. A page that imports one of anykeras's old (0.1) module names fails:
their `DeprecationWarning` is an error while a page runs, so the code a page shows is
the code of the current layout. The tests (``tests/test_docs.py``), the renderer and the notebook
generator all read pages through this module. Run one page by hand with::

    ANYKERAS_DOCS_QUICK=1 KERAS_BACKEND=torch python scripts/docs_code.py docs/tutorial.md
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATED = "docs/generated"  # as pages name it in includes: relative to the repository

# Pages whose code is run; a page not listed here and not excluded below fails the tests.
EXECUTED = ("tutorial.md", "architecture.md", "how-to/*.md")
# Pages whose Python blocks are shown but not run, with the reason.
NOT_EXECUTED = {
    "how-to/scale-to-many-devices.md": (
        "its code starts worker processes or needs several devices or hosts; "
        "tests/test_distributed.py runs the same calls"
    ),
}
# The Persian translation of a page sits beside it: tutorial.md -> tutorial.fa.md.
TRANSLATIONS = ("fa",)

BACKEND_TABS = {"JAX": "jax", "PyTorch": "torch", "TensorFlow": "tensorflow"}
QUICK_ENV = "ANYKERAS_DOCS_QUICK"
# The DeprecationWarning of an old anykeras module name (see anykeras/__init__.py).
MOVED_WARNING = r"anykeras\.\S+ moved to "

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<info>.*)$")
_TAB = re.compile(r'^(?P<indent>\s*)===\+?\s+"(?P<title>[^"]+)"\s*$')
_INCLUDE = re.compile(r'^\s*--8<--\s+"(?P<path>[^"]+)"\s*$')
_IMAGE = re.compile(r"!\[[^\]]*\]\((?P<path>generated/[^)\s]+\.png)\)")


@dataclasses.dataclass(frozen=True)
class Fence:
    """One fenced block of a page, whatever its language.

    Attributes:
        language: The first word of the info string (``"python"``, ``"bash"``...).
        info: The whole info string after the backticks.
        start: Line number (1-based) of the opening fence.
        end: Line number of the closing fence.
        code: The block's text, without the fences and the indentation of the fence.
        tab: Title of the content tab the block sits in, if any.
    """

    language: str
    info: str
    start: int
    end: int
    code: str
    tab: str | None


@dataclasses.dataclass(frozen=True)
class Block:
    """A Python block to run.

    Attributes:
        line: Line number (1-based) of the block's first code line in the page.
        code: The code.
        backend: Run only on this backend (the block sits in a backend's tab).
        output: The ``docs/generated/...`` file the page shows this block's output in.
    """

    line: int
    code: str
    backend: str | None
    output: str | None


def read_fences(text: str) -> list[Fence]:
    r"""Every fenced block of a Markdown page, in order, with the content tab it is in.

    Example:
    >>> [f.language for f in read_fences("```python\nx = 1\n```\n\n```bash\nls\n```\n")]
    ['python', 'bash']
    """
    lines = text.splitlines()
    fences: list[Fence] = []
    tab: tuple[int, str] | None = None  # (indentation of the tab header, title)
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if tab is not None and stripped and indent <= tab[0] and not _TAB.match(line):
            tab = None  # text back at the tab's level: the tabs are over
        if header := _TAB.match(line):
            tab = (len(header.group("indent")), header.group("title"))
            i += 1
            continue
        opening = _FENCE.match(line)
        if not opening or not opening.group("info"):
            i += 1
            continue
        fence = opening.group("fence")
        info = opening.group("info").strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"line {i + 1}: the fence {fence}{info} is never closed")
        in_tab = tab[1] if tab is not None and indent > tab[0] else None
        fences.append(Fence(info.split()[0].lower(), info, i + 1, j + 1, "\n".join(body), in_tab))
        i = j + 1
    return fences


def _include_after(lines: list[str], end: int) -> str | None:
    """The ``docs/generated`` file included right after the fence that ends on line ``end``.

    The include may stand alone (Markdown output, such as a table) or be the only line
    of a ```` ```text ```` fence.
    """
    rest = [line for line in lines[end : end + 6] if line.strip()]
    if not rest:
        return None
    match = _INCLUDE.match(rest[0])
    opening = _FENCE.match(rest[0])
    if match is None and opening and opening.group("info").strip() == "text" and len(rest) > 1:
        match = _INCLUDE.match(rest[1])
    if match is None or not match.group("path").startswith(f"{GENERATED}/"):
        return None
    return match.group("path")


def read_blocks(page: Path) -> list[Block]:
    """The Python blocks of ``page``, each with its backend and its output file.

    Raises:
        ValueError: A fence is not closed, a backend tab has an unknown title, or two
            blocks write the same output file.
    """
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    blocks: list[Block] = []
    for fence in read_fences(text):
        if fence.language not in ("python", "py"):
            continue
        backend = None
        if fence.tab is not None:
            if fence.tab not in BACKEND_TABS:
                raise ValueError(
                    f"{page}:{fence.start}: a Python block in the tab {fence.tab!r}; tabs "
                    f"that hold code to run must be named one of {sorted(BACKEND_TABS)}"
                )
            backend = BACKEND_TABS[fence.tab]
        blocks.append(Block(fence.start + 1, fence.code, backend, _include_after(lines, fence.end)))
    outputs = [b.output for b in blocks if b.output]
    if len(outputs) != len(set(outputs)):
        raise ValueError(f"{page}: two blocks write the same output file: {outputs}")
    return blocks


def includes(page: Path) -> list[str]:
    """Every ``docs/generated/...`` file that ``page`` includes with ``--8<--``."""
    return [
        match.group("path")
        for line in page.read_text(encoding="utf-8").splitlines()
        if (match := _INCLUDE.match(line)) and match.group("path").startswith(f"{GENERATED}/")
    ]


def figures(page: Path) -> list[str]:
    """Every ``generated/...png`` image of ``page``, as the page names it (relative to docs/)."""
    return _IMAGE.findall(page.read_text(encoding="utf-8"))


def executed_pages(docs: Path = DOCS) -> list[Path]:
    """The pages whose code runs: the tutorial and the how-tos, less `NOT_EXECUTED`."""
    pages = sorted({page for pattern in EXECUTED for page in docs.glob(pattern)})
    return [
        page
        for page in pages
        if not any(page.name.endswith(f".{lang}.md") for lang in TRANSLATIONS)
        and page.relative_to(docs).as_posix() not in NOT_EXECUTED
    ]


def translations(page: Path) -> list[Path]:
    """The translations of ``page`` that exist (``tutorial.md`` -> ``tutorial.fa.md``)."""
    candidates = [page.with_name(f"{page.stem}.{lang}.md") for lang in TRANSLATIONS]
    return [candidate for candidate in candidates if candidate.is_file()]


@dataclasses.dataclass
class PageRun:
    """What running a page produced.

    Attributes:
        outputs: Each output file the page includes -> the printed text of its block.
        seconds: Wall time of each block that ran, by its first line.
        workdir: The working directory the page ran in (its files are still there).
    """

    outputs: dict[str, str]
    seconds: dict[int, float]
    workdir: Path


class PageError(AssertionError):
    """A block of a page failed (or the page's process died)."""


def run_page(
    page: Path,
    *,
    quick: bool = True,
    workdir: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    python: str = sys.executable,
) -> PageRun:
    """Run ``page``'s Python blocks in a fresh process and return their outputs.

    Args:
        page: The Markdown page.
        quick: Set ``ANYKERAS_DOCS_QUICK=1`` (small synthetic data, few epochs);
            ``False`` removes it, so the page uses the real data sets.
        workdir: The working directory (created if needed); a new temporary one by
            default. Files the page writes stay there.
        env: Extra environment variables (``KERAS_BACKEND``...).
        timeout: Seconds before the process is killed.
        python: The interpreter (its environment decides the backends available).

    Returns:
        The `PageRun`.

    Raises:
        PageError: A block raised; the message names the page line and has the traceback.
    """
    page = page.resolve()
    workdir = Path(workdir or tempfile.mkdtemp(prefix=f"docs-{page.stem}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = workdir / ".docs-run.json"
    environment = {**os.environ, **(env or {})}
    environment.pop(QUICK_ENV, None)
    if quick:
        environment[QUICK_ENV] = "1"
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    environment.setdefault("MPLBACKEND", "Agg")
    # Pages run two at a time (tests, renderer). With two OpenMP threads each on a
    # two-core machine, PyTorch's threads spin waiting for each other: its steps were
    # measured 10 times slower than with one thread per process.
    environment.setdefault("OMP_NUM_THREADS", "1")
    command = [python, str(Path(__file__).resolve()), str(page), "--results", str(results)]
    try:
        done = subprocess.run(
            command,
            cwd=workdir,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise PageError(f"{page.name}: still running after {timeout:.0f} s") from error
    if done.returncode != 0 or not results.is_file():
        raise PageError(
            f"{page.relative_to(ROOT) if page.is_relative_to(ROOT) else page} failed "
            f"(exit status {done.returncode}):\n{done.stderr[-6000:]}"
        )
    data = json.loads(results.read_text(encoding="utf-8"))
    return PageRun(
        outputs=data["outputs"],
        seconds={int(line): s for line, s in data["seconds"].items()},
        workdir=workdir,
    )


def _current_backend() -> str:
    """The backend Keras runs on, or will run on once imported."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def execute(page: Path, results: Path) -> int:
    """Run ``page``'s blocks in this process (the child side of `run_page`)."""
    warnings.filterwarnings("error", message=MOVED_WARNING, category=DeprecationWarning)
    namespace: dict[str, object] = {"__name__": "__main__"}
    outputs: dict[str, str] = {}
    seconds: dict[int, float] = {}
    for block in read_blocks(page):
        if block.backend is not None and block.backend != _current_backend():
            continue
        # Pad with blank lines so tracebacks give the line numbers of the page itself.
        code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
        buffer = io.StringIO()
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(buffer):
                exec(code, namespace)  # running the page is the point
        except BaseException:
            sys.stdout.write(buffer.getvalue())
            print(f"\n{page}:{block.line}: this block failed:", file=sys.stderr)
            traceback.print_exc()
            return 1
        seconds[block.line] = round(time.perf_counter() - started, 2)
        if block.output is not None:
            outputs[block.output] = buffer.getvalue().rstrip() + "\n"
        sys.stdout.write(buffer.getvalue())
    results.write_text(json.dumps({"outputs": outputs, "seconds": seconds}), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one page here, printing what it prints (``--results`` also saves the outputs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--results", type=Path, default=Path(os.devnull))
    args = parser.parse_args(argv)
    return execute(args.page.resolve(), args.results)


if __name__ == "__main__":
    sys.exit(main())
