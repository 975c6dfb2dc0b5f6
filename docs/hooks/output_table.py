"""mkdocs hook: the figure/table map of ``reproduce.md`` is generated from the code.

The one list of outputs is ``ips_study.reproduce.outputs.OUTPUTS``; ``output_table()`` renders
it (``python -m ips_study.reproduce --list`` prints the same Markdown). The page holds a marker
where the table goes, so the rendered documentation can never disagree with what
``ips-study reproduce`` writes, and there is no second copy to keep in step.
"""

from __future__ import annotations

import sys
from pathlib import Path

MARKER = "<!-- output-table -->"


def on_config(config, **kwargs):
    # the checkout next to mkdocs.yml, the same source mkdocstrings documents (``paths: [.]``)
    root = str(Path(config.config_file_path).resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return config


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    if MARKER not in markdown:
        return markdown
    from ips_study.reproduce.__main__ import output_table

    return markdown.replace(MARKER, output_table())
