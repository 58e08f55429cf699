"""The documentation's code runs: every page, under the running backend, on quick data.

The tutorial and each how-to are run top to bottom in a fresh process (see
``scripts/docs_code.py``) with ``ANYKERAS_DOCS_QUICK=1``, so a page can never show code
that does not run. Each backend's nox session runs this file, so every page runs under
JAX, PyTorch and TensorFlow. The Persian translation must show byte-identical code and
outputs, and the committed notebooks must be what ``scripts/make_notebook.py`` makes.

Nothing here needs mkdocs: the site itself is built by ``nox -s docs``.
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
DOCS = ROOT / "docs"
PACKAGE = ROOT / "src" / "anykeras"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_script(name: str) -> ModuleType:
    """Import scripts/<name>.py (scripts/ is not a package) once."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


docs_code = load_script("docs_code")
make_notebook = load_script("make_notebook")

PAGES = docs_code.executed_pages()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


@pytest.fixture(scope="module")
def page_runs(tmp_path_factory) -> dict[Path, object]:
    """Run every page once, two at a time, on quick data; a failure is kept, not raised."""
    root = tmp_path_factory.mktemp("docs")

    def run(page: Path) -> object:
        try:
            return docs_code.run_page(
                page,
                quick=True,
                workdir=root / page.stem,
                env={"KERAS_BACKEND": BACKEND},
                timeout=900,
            )
        except docs_code.PageError as error:
            return error

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(PAGES, pool.map(run, PAGES), strict=True))


def test_the_tutorial_and_every_how_to_are_run():
    names = {page_id(page) for page in PAGES}
    assert {"tutorial.md", "architecture.md"} <= names
    assert {
        "how-to/use-data-offline.md",
        "how-to/run-on-gpu.md",
        "how-to/backend-agnostic-layer.md",
        "how-to/custom-training-step.md",
        "how-to/save-and-load-across-backends.md",
    } <= names
    # A page with Python code is either run or listed, with a reason, as not run.
    for page in DOCS.rglob("*.md"):
        name = page_id(page)
        if name.startswith("generated/") or any(
            name.endswith(f".{lang}.md") for lang in docs_code.TRANSLATIONS
        ):
            continue
        fences = docs_code.read_fences(page.read_text(encoding="utf-8"))
        if any(fence.language in ("python", "py") for fence in fences):
            assert name in names or name in docs_code.NOT_EXECUTED, name


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_page_runs_and_makes_what_it_shows(page, page_runs):
    run = page_runs[page]
    if isinstance(run, Exception):
        pytest.fail(str(run), pytrace=False)
    blocks = docs_code.read_blocks(page)
    assert blocks, f"{page_id(page)} has no Python code to run"
    # Every output the page shows was printed by the block above it, here and now.
    shown = [i for i in docs_code.includes(page) if "/render-info" not in i]
    assert sorted(run.outputs) == sorted(shown)
    for include, text in run.outputs.items():
        assert text.strip(), f"{include}: its block printed nothing"
    # Every figure the page shows was drawn by the page's code.
    for figure in docs_code.figures(page):
        found = list(run.workdir.rglob(Path(figure).name))
        assert len(found) == 1, figure
        assert found[0].read_bytes()[:8] == PNG_MAGIC, figure
    # Blocks for another backend did not run; this backend's did.
    ran = set(run.seconds)
    for block in blocks:
        assert (block.line in ran) == (block.backend in (None, BACKEND)), block.line


def test_tutorial_shows_the_course_workflow(page_runs):
    run = page_runs[DOCS / "tutorial.md"]
    if isinstance(run, Exception):
        pytest.skip("the tutorial failed: see its own test")
    outputs = {Path(k).stem: v for k, v in run.outputs.items()}
    assert f"on {BACKEND} | QUICK = True" in outputs["setup"]
    assert "160,305" in outputs["model"]  # the course's 16-16-1 network on 10,000 words
    assert "3,000 reviews to train on, 1,000 to validate" in outputs["hold_out"]
    history = outputs["history"].splitlines()
    assert history[0] == "['accuracy', 'loss', 'val_accuracy', 'val_loss']"
    assert len(history) == 2 + 20  # a header, then one line per epoch
    # Overfitting, as on the real reviews: validation loss turns up before the end.
    val_loss = [float(line.split()[3]) for line in history[2:]]
    best = 1 + val_loss.index(min(val_loss))
    assert best < 20
    assert val_loss[-1] > min(val_loss)
    assert f"after epoch {best};" in outputs["best"]
    accuracy = float(outputs["evaluate"].split("test accuracy ")[1])
    assert accuracy > 0.75  # about 0.84 on the quick data (0.88 on IMDB)
    assert outputs["sweep"].count("\n") == 2 + 7  # the table: header, rule, 7 experiments


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_translation_shows_the_same_code_and_outputs(page):
    for translation in docs_code.translations(page):
        original, translated = (
            [(f.language, f.code, f.tab) for f in docs_code.read_fences(p.read_text("utf-8"))]
            for p in (page, translation)
        )
        assert translated == original, (
            f"{page_id(translation)}: its code blocks differ from {page_id(page)}'s; "
            "run python scripts/sync_translation.py"
        )
        assert docs_code.figures(translation) == docs_code.figures(page)
        assert [i for i in docs_code.includes(translation) if "/render-info" not in i] == [
            i for i in docs_code.includes(page) if "/render-info" not in i
        ]


def test_tutorial_has_a_persian_translation_that_reads_right_to_left():
    persian = DOCS / "tutorial.fa.md"
    assert persian in docs_code.translations(DOCS / "tutorial.md")
    text = persian.read_text(encoding="utf-8")
    lines = text.splitlines()
    for fence in docs_code.read_fences(text):  # code stays English: count the prose only
        lines[fence.start - 1 : fence.end] = [""] * (fence.end - fence.start + 1)
    prose = re.sub(r"`[^`]*`|\([^)]*\.md\)", "", "\n".join(lines))
    letters = [c for c in prose if c.isalpha()]
    persian_letters = [c for c in letters if "\u0600" <= c <= "\u06ff"]
    assert len(persian_letters) > 0.5 * len(letters)  # prose in Persian; code in English
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "locale: fa" in config
    assert "direction: rtl" in config


@pytest.mark.parametrize("page", list(make_notebook.SOURCES), ids=page_id)
def test_notebook_is_generated_from_its_page(page):
    target = make_notebook.SOURCES[page]
    assert make_notebook.up_to_date(page, target), (
        f"{page_id(target)} is out of date: run python scripts/make_notebook.py"
    )


@pytest.mark.parametrize("page", list(make_notebook.SOURCES), ids=page_id)
def test_committed_notebook_shows_a_runs_outputs_figures_and_table(page):
    """Every code cell that prints has its output; figures are PNGs; the sweep is a table."""
    cells = json.loads(make_notebook.SOURCES[page].read_text(encoding="utf-8"))["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    outputs = [out for cell in code for out in cell["outputs"]]
    printing = [cell for cell in code if "print(" in "".join(cell["source"])]
    assert [cell["id"] for cell in printing if not cell["outputs"]] == []
    assert [out for out in outputs if out["output_type"] == "error"] == []
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 3  # loss, accuracy and the sweep's curves
    tables = [
        "".join(out["data"]["text/markdown"])
        for out in outputs
        if "text/markdown" in out.get("data", {})
    ]
    assert len(tables) == 1
    assert tables[0].startswith("| experiment | params |")
    shown = json.dumps(outputs)
    assert "PosixPath(" not in shown
    assert "<Figure" not in shown


def test_notebook_code_is_the_pages_code():
    page = DOCS / "tutorial.md"
    code = [c["source"] for c in make_notebook.cells(page) if c["cell_type"] == "code"]
    blocks = docs_code.read_blocks(page)
    assert ["".join(source) for source in code] == [b.code for b in blocks]


def test_read_blocks_finds_code_outputs_and_backend_tabs(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n```python\nprint(1)\n```\n\n```text\n"
        '--8<-- "docs/generated/page/one.txt"\n```\n\n```bash\nls\n```\n\n'
        '=== "JAX"\n\n    ```python\n    import jax\n    ```\n\n'
        '=== "PyTorch"\n\n    ```python\n    import torch\n    ```\n\n'
        "Back to the page.\n\n```python\nprint(2)\n```\n\n"
        '--8<-- "docs/generated/page/table.md"\n\n![a figure](generated/page/f.png)\n',
        encoding="utf-8",
    )
    blocks = docs_code.read_blocks(page)
    assert [(b.line, b.code, b.backend, b.output) for b in blocks] == [
        (4, "print(1)", None, "docs/generated/page/one.txt"),
        (18, "import jax", "jax", None),
        (24, "import torch", "torch", None),
        (30, "print(2)", None, "docs/generated/page/table.md"),
    ]
    assert docs_code.figures(page) == ["generated/page/f.png"]


def test_a_failing_block_names_its_line(tmp_path):
    page = tmp_path / "broken.md"
    page.write_text("```python\nx = 1\n```\n\n```python\n\nraise ValueError(x)\n```\n")
    with pytest.raises(docs_code.PageError) as caught:
        docs_code.run_page(page, workdir=tmp_path / "run", timeout=120)
    message = str(caught.value)
    assert "broken.md:6: this block failed" in message  # the block's first line
    assert 'broken.md", line 7' in message  # the failing line, as the page numbers it
    assert message.rstrip().endswith("ValueError: 1")


def test_notebook_markdown_drops_what_only_the_site_understands():
    lines = [
        "Intro.",
        "",
        '!!! info "How"',
        '    --8<-- "docs/generated/render-info.md"',
        "",
        "[Download](tutorial.ipynb){ .md-button }",
        "",
        '!!! note "Remember"',
        "    Seeds matter.",
        "",
        "```text",
        '--8<-- "docs/generated/tutorial/x.txt"',
        "```",
        "",
        "![Loss](generated/tutorial/loss.png)",
        "",
        '<div class="repo-only" markdown>',
        "",
        "Outputs are generated.",
        "",
        "</div>",
        "",
        "The end.",
    ]
    assert make_notebook._markdown(lines) == [
        "Intro.",
        "",
        "> **Remember**",
        ">",
        "> Seeds matter.",
        "",
        "The end.",
    ]


@pytest.mark.parametrize("page", list(make_notebook.SOURCES), ids=page_id)
def test_tutorial_read_in_the_repository_says_where_its_outputs_are(page):
    text = page.read_text(encoding="utf-8")
    note = text[text.index('<div class="repo-only" markdown>') : text.index("</div>")]
    assert "`nox -s docs`" in note
    assert f"`docs/{make_notebook.SOURCES[page].name}`" in note
    assert text.index("</div>") < text.index('--8<-- "docs/generated/tutorial/')  # first


def test_site_links_are_files_so_it_works_from_disk():
    """``use_directory_urls: false``: links end in .html, as site/index.html opened needs."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^use_directory_urls: false\b", config, re.MULTILINE)
    css = (DOCS / "stylesheets/extra.css").read_text(encoding="utf-8")
    assert ".md-typeset .repo-only {\n  display: none;" in css  # the note is for .md readers
    folders = [  # a link to a folder, which mkdocs leaves as it is, lists files from disk
        f"{page_id(page)}: {link}"
        for page in DOCS.rglob("*.md")
        for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
        if link.split("#")[0].endswith("/") and "://" not in link
    ]
    assert folders == []


def test_a_site_only_build_names_the_outputs_it_lacks(tmp_path):
    render_docs = load_script("render_docs")
    (tmp_path / "page.md").write_text(
        '```text\n--8<-- "docs/generated/page/none.txt"\n```\n\n'
        "![a figure](generated/page/none.png)\n",
        encoding="utf-8",
    )
    assert render_docs.missing_outputs(tmp_path) == [
        "docs/generated/page/none.png",
        "docs/generated/page/none.txt",
    ]


@pytest.mark.parametrize("name", ["docs_code", "make_notebook", "render_docs", "sync_translation"])
def test_script_examples(name):
    results = doctest.testmod(load_script(name))
    assert results.failed == 0


# --- The pages describe the package as it is -------------------------------------------

# Module names of 0.1: those that moved still import, with a DeprecationWarning (see
# anykeras/__init__.py); these two are gone.
GONE = ("anykeras.paths", "anykeras.fastpath")


def old_module_names() -> list[str]:
    import anykeras  # imports no Keras

    return sorted({*anykeras._MOVED, *GONE})


def test_no_page_names_an_old_module():
    """No page, nor the README, shows an import (or a name) of the 0.1 layout."""
    old = re.compile(r"\b(" + "|".join(map(re.escape, old_module_names())) + r")\b")
    pages = [p for p in DOCS.rglob("*.md") if "generated" not in p.relative_to(DOCS).parts]
    found = [
        f"{page.relative_to(ROOT)}:{number}: {match.group(1)}"
        for page in [*pages, ROOT / "README.md"]
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        for match in old.finditer(line)
    ]
    assert found == []


def section(page: Path, heading: str) -> str:
    """The text of ``page`` from ``heading`` to the next heading of the same level."""
    text = page.read_text(encoding="utf-8")
    level = heading.split(maxsplit=1)[0]
    start = text.index(f"\n{heading}\n")
    end = text.find(f"\n{level} ", start + 1)
    return text[start : end if end != -1 else len(text)]


def package_modules() -> set[str]:
    """Every module file of the package, relative to src/anykeras/."""
    return {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")}


def test_architecture_tree_is_the_package():
    tree = docs_code.read_fences(section(DOCS / "architecture.md", "## The tree"))[0]
    lines = tree.code.splitlines()
    assert lines[0] == "src/anykeras/"
    folders: list[str] = []
    shown = set()
    for line in lines[1:]:
        match = re.match(r"^((?:│   |    )*)(?:├── |└── )(\S+)", line)
        assert match, f"not a line of the tree: {line!r}"
        depth = len(match.group(1)) // 4
        folders[depth:] = []
        name = match.group(2)
        if name.endswith("/"):
            folders.append(name)
        else:
            shown.add("".join(folders) + name)
    assert shown == package_modules()


def room_of(module: str) -> str:
    """``"training"`` for ``"anykeras.training.steps"``, ``"spec"`` for ``"anykeras.spec"``."""
    return module.split(".")[1]


def test_each_room_imports_only_the_rooms_above_it():
    table = section(DOCS / "architecture.md", "## The rooms")
    rows = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    rooms = [name.rstrip("/").removesuffix(".py") for name in rows]
    top_level = {"__init__.py", "__main__.py"}  # the public API and `python -m`: above all
    tops = {module.split("/")[0] for module in package_modules()} - top_level
    assert sorted(rooms) == sorted(name.removesuffix(".py") for name in tops)
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.as_posix() in top_level:
            continue
        room = relative.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{relative}: a relative import"
                names = [node.module or ""]
                if node.module == "anykeras":
                    names = [f"anykeras.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if not name.startswith("anykeras.") or room_of(name) not in rooms:
                    continue  # another package, or the package's top level (__version__)
                if rooms.index(room_of(name)) > rooms.index(room):
                    wrong.append(f"{relative}:{node.lineno}: {room} imports {name}")
    assert wrong == []


def module_file(module: str) -> Path:
    """The file of ``anykeras.x.y``: ``x/y.py`` or ``x/y/__init__.py`` under the package."""
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imported_on_load(root: str) -> set[str]:
    """Every anykeras module that importing ``root`` runs (module-level imports only)."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        module = todo.pop()
        if module in seen or module == "anykeras":
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(2, len(parts))]  # its packages run first
        for node in ast.parse(module_file(module).read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("anykeras"):
                todo.append(str(node.module))
                for alias in node.names:  # `from anykeras.data import imdb`: a module
                    if module_file(f"{node.module}.{alias.name}").is_file():
                        todo.append(f"{node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("anykeras.")]
    return seen


def test_the_reading_order_names_every_module_of_the_courses_path():
    text = section(DOCS / "architecture.md", "## Read the code in the course's order")
    named = set(re.findall(r"`([a-z_/]+\.py)`", text))
    path = {
        module_file(m).relative_to(PACKAGE).as_posix() for m in imported_on_load("anykeras.run")
    }
    assert "training/steps.py" in path  # the walk follows the imports
    assert sorted(path - named) == []
    assert not {p for p in path if p.startswith(("speed/", "loops/"))}


def test_api_pages_document_every_public_module():
    documented = []
    for page in sorted((DOCS / "api").glob("*.md")):
        documented += re.findall(r"^::: (\S+)$", page.read_text(encoding="utf-8"), re.M)
    assert len(documented) == len(set(documented)), "a module is documented twice"
    files = {}
    for module in package_modules():
        parts = module.removesuffix(".py").split("/")
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1:] == ["__main__"] or any(part.startswith("_") for part in parts):
            continue  # `python -m` entry points and private modules
        files[".".join(["anykeras", *parts])] = module
    assert sorted(documented) == sorted(files)
