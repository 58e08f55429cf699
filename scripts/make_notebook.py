"""Generate the tutorial's Jupyter notebooks from its Markdown pages.

``docs/tutorial.md`` becomes ``docs/tutorial.ipynb`` and ``docs/tutorial.fa.md``
becomes ``docs/tutorial.fa.ipynb``: each ```` ```python ```` block is a code cell, the
text between them Markdown cells. What only the website understands is translated or
dropped: output includes and figures go (the code shows its own outputs and figures
in the notebook), so does the note for readers of the repository (``<div
class="repo-only">``), admonitions become quotes, and Persian cells are wrapped to read
right to left.

The notebooks are committed with the outputs of a quick run, so a reader sees them
without running anything; ``tests/test_docs.py`` fails when their cells differ from
what this script generates (outputs aside). After editing the tutorial, run::

    python scripts/make_notebook.py            # rewrite the stale notebooks (outputs
                                               # kept if only Markdown changed)
    python scripts/make_notebook.py --check    # only say whether they are up to date
    python scripts/run_notebook.py docs/tutorial.ipynb --output docs/tutorial.ipynb

The JSON is written by hand (nbformat 4.5), so this needs nothing but Python.
"""

# ruff: noqa: RUF001 (Persian text, whose letters look like Latin ones to ruff)

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_code  # the sibling module, found through the path set above

SOURCES = {
    docs_code.DOCS / "tutorial.md": docs_code.DOCS / "tutorial.ipynb",
    docs_code.DOCS / "tutorial.fa.md": docs_code.DOCS / "tutorial.fa.ipynb",
}
HEADER = {
    "en": (
        "*This notebook is generated from `docs/tutorial.md` by `scripts/make_notebook.py`: "
        "edit the Markdown page, not the notebook. The outputs saved in it come from a "
        "quick run on JAX (`QUICK = True`: small synthetic reviews, not the real ones, so "
        "the numbers are not the course's). Run the cells from the top for your own; set "
        "`QUICK = True` in the first code cell for a quick run on small synthetic data.*"
    ),
    "fa": (
        "*این نوت‌بوک را `scripts/make_notebook.py` از روی `docs/tutorial.fa.md` ساخته "
        "است: صفحهٔ Markdown را ویرایش کنید، نه نوت‌بوک را. خروجی‌های ذخیره‌شده در آن از "
        "یک اجرای سریع روی JAX آمده‌اند (`QUICK = True`: نقدهای مصنوعی کوچک، نه نقدهای "
        "واقعی؛ پس عددها عددهای درس نیستند). سلول‌ها را از بالا اجرا کنید؛ "
        "برای اجرایی سریع روی داده‌های مصنوعی کوچک، در اولین سلول کد "
        "`QUICK = True` بگذارید.*"
    ),
}

_ADMONITION = re.compile(r'^(?P<indent>\s*)(!!!|\?\?\?\+?)\s+\w+(?:\s+"(?P<title>[^"]*)")?\s*$')
_ATTRS = re.compile(r"\{\s*[.#][^}]*\}")  # attr_list: { .md-button }
_FIGURE = re.compile(r"^\s*!\[[^\]]*\]\(generated/[^)]+\.png\)\s*$")
_REPO_ONLY = re.compile(r'^<div class="repo-only"')


def language(page: Path) -> str:
    """``"fa"`` for ``tutorial.fa.md``, else ``"en"``."""
    suffix = page.stem.rsplit(".", 1)[-1] if "." in page.stem else ""
    return suffix if suffix in docs_code.TRANSLATIONS else "en"


def _markdown(lines: list[str]) -> list[str]:
    """Website-only Markdown turned into what Jupyter shows."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if docs_code._INCLUDE.match(line):  # an output include: the notebook has outputs
            i += 1
            continue
        if (
            line.strip() == "```text"
            and i + 2 < len(lines)
            and docs_code._INCLUDE.match(lines[i + 1])
        ):
            i += 3  # the fence holding an output include, and its closing line
            continue
        if match := _ADMONITION.match(line):
            indent = len(match.group("indent")) + 4
            body = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" " * indent)):
                body.append(lines[i][indent:])
                i += 1
            body = [b for b in body if not docs_code._INCLUDE.match(b)]
            while body and not body[-1].strip():
                body.pop()
            if any(b.strip() for b in body):
                title = match.group("title")
                quoted = [f"> {b}".rstrip() for b in body]
                out += ([f"> **{title}**", ">"] if title else []) + quoted
                out.append("")
            continue
        if _REPO_ONLY.match(line):  # for readers of the .md file: the notebook has outputs
            while i < len(lines) and lines[i].strip() != "</div>":
                i += 1
            i += 1
            continue
        if "](tutorial.ipynb)" in line or _FIGURE.match(line):  # the download button; a
            i += 1  # figure, which the notebook shows under the code that draws it
            continue
        out.append(_ATTRS.sub("", line))
        i += 1
    # Collapse the blank lines left where things were dropped.
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    return text.splitlines() if text else []


def _source(lines: list[str]) -> list[str]:
    """Cell source as nbformat stores it: lines that keep their newline, but the last."""
    return [line + "\n" for line in lines[:-1]] + lines[-1:]


def cells(page: Path) -> list[dict]:
    """The notebook cells of ``page``, in order."""
    lang = language(page)
    lines = page.read_text(encoding="utf-8").splitlines()
    fences = [f for f in docs_code.read_fences("\n".join(lines)) if f.language in ("python", "py")]
    result: list[dict] = []

    def markdown_cell(chunk: list[str]) -> None:
        body = _markdown(chunk)
        if not body:
            return
        if lang in ("fa",):  # right to left; Markdown inside the div still renders
            body = ['<div dir="rtl">', "", *body, "", "</div>"]
        result.append({"cell_type": "markdown", "metadata": {}, "source": _source(body)})

    markdown_cell([HEADER[lang]])
    position = 0
    for fence in fences:
        if fence.tab is not None:
            raise ValueError(f"{page}:{fence.start}: a notebook cannot show content tabs")
        markdown_cell(lines[position : fence.start - 1])
        result.append(
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": _source(fence.code.splitlines()),
            }
        )
        position = fence.end
    markdown_cell(lines[position:])
    for number, cell in enumerate(result):
        cell["id"] = f"cell-{number:03d}"
    return result


def notebook(page: Path) -> str:
    """The ``.ipynb`` text for ``page`` (sorted keys and one-space indent, as Jupyter saves)."""
    document = {
        "cells": cells(page),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def without_outputs(text: str) -> dict:
    """A notebook's JSON without what running it adds: outputs, execution counts, metadata.

    Example:
    >>> cell = {"cell_type": "code", "execution_count": 3, "outputs": [{"text": "1"}]}
    >>> without_outputs(json.dumps({"cells": [cell], "metadata": {"a": 1}}))
    {'cells': [{'cell_type': 'code', 'execution_count': None, 'outputs': []}], 'metadata': {}}
    """
    document = json.loads(text)
    document["metadata"] = {}
    for cell in document["cells"]:
        if cell["cell_type"] == "code":
            cell.update(execution_count=None, outputs=[])
    return document


def up_to_date(page: Path, target: Path) -> bool:
    """Whether ``target`` holds the cells generated from ``page`` (its outputs aside)."""
    if not target.is_file():
        return False
    return without_outputs(target.read_text(encoding="utf-8")) == without_outputs(notebook(page))


def keeping_outputs(new: str, old: str | None) -> str:
    """``new`` with ``old``'s outputs when only Markdown changed (the same code, in order).

    Any change to the code drops them all: a later cell's output may depend on it.
    """
    if old is None:
        return new
    fresh, ran = json.loads(new), json.loads(old)
    code, ran_code = ([c for c in doc["cells"] if c["cell_type"] == "code"] for doc in (fresh, ran))
    if [c["source"] for c in code] != [c["source"] for c in ran_code]:
        return new
    for cell, before in zip(code, ran_code, strict=True):
        cell.update(execution_count=before["execution_count"], outputs=before["outputs"])
    return json.dumps(fresh, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the notebooks, or with ``--check`` report the stale ones (exit status 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if stale")
    args = parser.parse_args(argv)
    stale = []
    for page, target in SOURCES.items():
        if not page.is_file():
            continue
        if up_to_date(page, target):  # keep the outputs of the last run
            continue
        stale.append(target)
        if not args.check:
            old = target.read_text(encoding="utf-8") if target.is_file() else None
            target.write_text(keeping_outputs(notebook(page), old), encoding="utf-8")
            print(f"wrote {target.relative_to(docs_code.ROOT)}")
    if args.check and stale:
        names = ", ".join(str(t.relative_to(docs_code.ROOT)) for t in stale)
        print(f"out of date: {names}; run python scripts/make_notebook.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
