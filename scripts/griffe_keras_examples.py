"""A griffe extension that reads anykeras's Keras-style docstrings for the API reference.

anykeras writes docstrings the way Keras does: Google-style sections (``Args:``,
``Returns:``), and a doctest under an ``Example:`` header, often at the SAME
indentation as the header rather than indented below it. Python's doctest runner reads
that fine, but griffe's Google parser takes ``Example:`` (singular) for an admonition
of Markdown text and needs a section's body indented, so the ``>>>`` lines would render
as nested Markdown quotes (and ``x[0][0]`` as a broken link).

Before a docstring is parsed, this extension renames an ``Example:`` header whose body
is a doctest to ``Examples:`` (the section griffe renders as console code), indents a
body written flush with its header, and turns the few reStructuredText roles
(``:func:`name```) and literal markers (a line ending in ``::``) into Markdown. It
changes nothing in ``src/``; mkdocstrings loads it from ``mkdocs.yml``
(``extensions: [scripts/griffe_keras_examples.py]``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADER = re.compile(r"^(?P<indent>\s*)(Example|Examples):\s*$")
# Any Google-style section header: a capitalised word or two, then a colon.
_SECTION = re.compile(r"^(?P<indent>\s*)[A-Z][A-Za-z ]{1,30}:\s*$")
_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj):`~?([^`]+)`")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def indent_examples(text: str) -> str:
    r"""Make every doctest under ``Example:`` an indented ``Examples:`` section.

    Example:
    >>> indent_examples("Summary.\n\nExample:\n>>> 1 + 1\n2").splitlines()
    ['Summary.', '', 'Examples:', '    >>> 1 + 1', '    2']
    >>> indent_examples("Example:\n    >>> 1\n    1").splitlines()
    ['Examples:', '    >>> 1', '    1']
    >>> indent_examples("Example:\n    Run it with the data.").splitlines()
    ['Example:', '    Run it with the data.']
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        match = _HEADER.match(line)
        i += 1
        if not match:
            continue
        indent = len(match.group("indent"))
        following = next((text for text in lines[i:] if text.strip()), "")
        if not following.lstrip().startswith(">>>"):
            continue  # prose or a literal block: griffe renders it as text, which is right
        # griffe reads "Example:" as an admonition; "Examples:" holds console code.
        out[-1] = f"{match.group('indent')}Examples:"
        if _indent_of(following) > indent:
            continue  # already indented below its header
        while i < len(lines):
            body = lines[i]
            if body.strip() and _indent_of(body) <= indent and _SECTION.match(body):
                break  # the next section starts
            if body.strip() and _indent_of(body) < indent:
                break  # the docstring's enclosing block ended
            out.append(("    " + body) if body.strip() else body)
            i += 1
    return "\n".join(out)


def to_markdown(text: str) -> str:
    """Keras-style docstring text to what griffe's Google parser and Markdown expect."""
    text = indent_examples(text)
    text = _ROLE.sub(r"`\1`", text)
    # reStructuredText's "text::" before a literal block is "text:" in Markdown.
    return re.sub(r"(?m)(\S)::$", r"\1:", text)


class KerasStyleExamples(griffe.Extension):
    """Rewrite each object's docstring with `to_markdown` once the tree is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Fix the docstring of one object (module, class, function or attribute)."""
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
