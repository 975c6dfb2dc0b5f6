"""Figure 1 draws the disclosure-controlled counts of table 2 (issue 20).

Figure 1 printed exact counts while table 2 rounded them to base 5; two runs differing only
in ``age_min`` then revealed a group of four persons. Both now come from one controlled table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ips_study.config import StudyConfig
from ips_study.reproduce import outputs
from ips_study.reproduce.context import Context


def test_flow_figure_bars_are_the_rounded_counts_of_table_2(small_synthetic_dir, tmp_path):
    ctx = Context(data=small_synthetic_dir, out=tmp_path / "out", work=tmp_path / "work",
                  config=StudyConfig(), key="test", quiet=True)
    table = outputs.make_flow_table(ctx)
    fig = outputs.make_flow_figure(ctx)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    published = [v for col in ("n_treated", "n_controls") for v in table[col]]
    shown = [0.0 if v == ":" else float(v) for v in published]
    assert sorted(widths) == sorted(shown)
    exact = outputs._flow(ctx)[["treated", "controls"]].to_numpy(float).ravel()
    # the synthetic flow has counts that are not multiples of 5: the test can tell the two apart
    assert (np.mod(exact, 5) != 0).any()
    assert all(w % 5 == 0 for w in widths)
    import matplotlib.pyplot as plt

    plt.close(fig)
