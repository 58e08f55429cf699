"""Generate the tutorial's Jupyter notebooks from its Markdown pages.

``docs/tutorial.md`` becomes ``docs/tutorial.ipynb`` and ``docs/tutorial.fa.md``
becomes ``docs/tutorial.fa.ipynb``: each ```` ```python ```` block is a code cell, the
text between them Markdown cells. What only the website understands is translated or
dropped: output includes go (the notebook makes its own outputs when run), admonitions
become quotes, figures point at the files the code writes (``runs/tutorial/...``,
beside the notebook when Jupyter runs it from ``docs/``), and Persian cells are wrapped
to read right to left.

The notebooks are committed, so a reader can open them without building anything;
``tests/test_docs.py`` fails when they differ from what this script generates. After
editing the tutorial, run::

    python scripts/make_notebook.py            # rewrite the notebooks
    python scripts/make_notebook.py --check    # only say whether they are up to date

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
        "edit the Markdown page, not the notebook. Run the cells from the top; set "
        "`QUICK = True` in the first code cell for a quick run on small "
        "synthetic data.*"
    ),
    "fa": (
        "*این نوت‌بوک را `scripts/make_notebook.py` از روی `docs/tutorial.fa.md` ساخته "
        "است: صفحهٔ Markdown را ویرایش کنید، نه نوت‌بوک را. سلول‌ها را از بالا اجرا کنید؛ "
        "برای اجرایی سریع روی داده‌های مصنوعی کوچک، در اولین سلول کد "
        "`QUICK = True` بگذارید.*"
    ),
}

_ADMONITION = re.compile(r'^(?P<indent>\s*)(!!!|\?\?\?\+?)\s+\w+(?:\s+"(?P<title>[^"]*)")?\s*$')
_ATTRS = re.compile(r"\{\s*[.#][^}]*\}")  # attr_list: { .md-button }
_FIGURE = re.compile(r"\]\(generated/(?P<page>[^/)]+)/(?P<name>[^)]+\.png)\)")


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
        if "](tutorial.ipynb)" in line:  # the download button: this is the notebook
            i += 1
            continue
        line = _ATTRS.sub("", line)
        out.append(_FIGURE.sub(r"](runs/\g<page>/\g<name>)", line))
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


def main(argv: list[str] | None = None) -> int:
    """Write the notebooks, or with ``--check`` report the stale ones (exit status 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if stale")
    args = parser.parse_args(argv)
    stale = []
    for page, target in SOURCES.items():
        if not page.is_file():
            continue
        text = notebook(page)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if text == current:
            continue
        stale.append(target)
        if not args.check:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(docs_code.ROOT)}")
    if args.check and stale:
        names = ", ".join(str(t.relative_to(docs_code.ROOT)) for t in stale)
        print(f"out of date: {names}; run python scripts/make_notebook.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
