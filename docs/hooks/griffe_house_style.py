"""Griffe extension: render the package's numpydoc docstrings as they are written.

The docstrings follow the house style (numpydoc with a short doctest, cross references in
Sphinx roles such as ``:func:`read_registers```). mkdocstrings' numpy parser handles the
``Examples`` section, but two habits of the house style would otherwise come out as plain
Markdown text:

* doctest lines outside an ``Examples`` section (the house heading is ``Example``, and class
  or module bodies hold doctests without a heading): their output lines, such as
  ``['a', 'b']``, read as Markdown reference links, which the strict build rejects;
* Sphinx roles, which Markdown shows literally.

This extension rewrites the docstring text before it is parsed: each doctest block becomes a
``pycon`` code block (doctest flags removed), and each role becomes inline code, linked to the
object's API entry when the name resolves in the docstring's scope and that object is rendered
(an *optional* autoref: a name that is not rendered stays plain code instead of failing the
strict build). It changes nothing in the package itself.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc):`(~?)([^`]+)`")
_FLAGS = re.compile(r"\s*#\s*doctest:.*$")


def _role(match: re.Match, obj: griffe.Object | None = None) -> str:
    """Inline code for a Sphinx role, as an optional cross-reference when ``obj`` resolves it."""
    tilde, target = match.groups()
    code = f"`{target.rsplit('.', 1)[-1] if tilde else target}`"
    identifier = _resolve(obj, target) if obj is not None else None
    return f'<autoref identifier="{identifier}" optional>{code}</autoref>' if identifier else code


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """The full path of ``target`` as seen from ``obj``'s scope, or None."""
    if target.startswith("ips_study."):
        return target
    head, _, rest = target.partition(".")
    try:
        path = obj.resolve(head)
    except Exception:  # griffe's NameResolutionError and alias errors: leave the name unlinked
        return None
    return f"{path}.{rest}" if rest else path


def fence_doctests(text: str) -> str:
    """Wrap every doctest block (``>>>`` up to the next blank line) in a ``pycon`` fence.

    Blocks already inside a fenced code block are left alone.

    Examples
    --------
    >>> print(fence_doctests("Text.\\n\\n>>> 1 + 1\\n2"))
    Text.
    <BLANKLINE>
    ```pycon
    >>> 1 + 1
    2
    ```
    """
    out: list[str] = []
    in_fence = in_doctest = False
    indent = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if in_doctest and not stripped:
            out.append(indent + "```")
            in_doctest = False
        if not in_doctest and stripped.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and not in_doctest and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "```pycon")
            in_doctest = True
        if in_doctest:
            line = _FLAGS.sub("", line)
        out.append(line)
    if in_doctest:
        out.append(indent + "```")
    return "\n".join(out)


class HouseStyle(griffe.Extension):
    """Rewrite docstrings once the object tree is complete, before they are parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(lambda m: _role(m, obj), obj.docstring.value)
            obj.docstring.value = fence_doctests(text)
