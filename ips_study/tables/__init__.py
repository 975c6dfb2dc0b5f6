"""Tables a journal takes as they are: several models side by side, and the analysis tables.

* :func:`etable` puts any :class:`~ips_study.results.Results` side by side (DiD family,
  survival, economics, mixed), one model per column, naming each column's inference method.
* :func:`paper_table` renders a long analysis table with human headers and labels.
* Both return a :class:`Table` that writes plain text, Markdown, LaTeX (booktabs, caption,
  notes, label) and HTML; :meth:`Table.save` runs the disclosure checker on what it wrote.

Labels come from :mod:`ips_study.figures.labels` (English, or Norwegian with ``lang="no"``),
so a table and a figure never name the same thing differently.

Example
-------
>>> import pandas as pd
>>> from ips_study.results import Results
>>> r = Results(pd.DataFrame({"estimate": [0.3], "std_error": [0.1]}, index=["exposed"]),
...             design="cox", outcome="ltbd_onset", inference="robust", n_obs=4000, n_units=400)
>>> print(etable([r], stars=True, lang="no").to_markdown().splitlines()[2])
| Eksponert for IPS | 0,300*** |
"""

from .etable import etable
from .paper import paper_table
from .render import Table, auto_decimals, format_number

__all__ = ["Table", "auto_decimals", "etable", "format_number", "paper_table"]
