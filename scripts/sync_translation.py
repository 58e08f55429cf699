"""Copy the code blocks of an English page into its translations, block for block.

A translation (``docs/tutorial.fa.md`` for ``docs/tutorial.md``) must show exactly the
English page's code and outputs, and ``tests/test_docs.py`` checks that it does. After
changing code in the English page, run::

    python scripts/sync_translation.py              # every page that has a translation
    python scripts/sync_translation.py --check      # change nothing; fail if out of sync

The n-th fenced block of the translation is replaced by the n-th fenced block of the
English page (fences and all), so only the prose between blocks is the translator's.
Both pages must have the same number of fenced blocks; add or remove a block in the
translation by hand first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_code  # the sibling module, found through the path set above


def synced(original: str, translation: str) -> str:
    r"""``translation`` with each fenced block replaced by ``original``'s block.

    Raises:
        ValueError: The two texts have different numbers of fenced blocks.

    Example:
    >>> synced("Hi\n\n```python\nx = 2\n```\n", "Salam\n\n```python\nx = 1\n```\n")
    'Salam\n\n```python\nx = 2\n```\n'
    """
    source_lines = original.splitlines()
    target_lines = translation.splitlines()
    source = docs_code.read_fences(original)
    target = docs_code.read_fences(translation)
    if len(source) != len(target):
        raise ValueError(
            f"the translation has {len(target)} fenced blocks and the original "
            f"{len(source)}: add or remove blocks in the translation first"
        )
    for old, new in reversed(list(zip(target, source, strict=True))):
        target_lines[old.start - 1 : old.end] = source_lines[new.start - 1 : new.end]
    return "\n".join(target_lines) + ("\n" if translation.endswith("\n") else "")


def main(argv: list[str] | None = None) -> int:
    """Sync every translation of every page under docs/ (``--check``: only compare)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if stale")
    args = parser.parse_args(argv)
    stale = []
    for page in sorted(docs_code.DOCS.rglob("*.md")):
        for translation in docs_code.translations(page):
            text = translation.read_text(encoding="utf-8")
            new = synced(page.read_text(encoding="utf-8"), text)
            if new == text:
                continue
            stale.append(translation.relative_to(docs_code.ROOT))
            if not args.check:
                translation.write_text(new, encoding="utf-8")
                print(f"synced {translation.relative_to(docs_code.ROOT)}")
    if args.check and stale:
        print(f"out of sync: {', '.join(map(str, stale))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
