"""Publication figures (figurer) of the IPS evaluation, in one house style.

Every function draws one figure of the analysis on an ``ax`` (a new one when ``ax=None``) and
returns the Axes; :func:`save` writes it as PNG and PDF, byte-identical on reruns. Labels
are English (``lang="en"``) or Norwegian bokmål (``lang="no"``). Series differ by line style
and marker so the figures read in greyscale. Nothing is drawn that rests on fewer than
``min_count`` persons (:mod:`ips_study.disclosure`).

========================================  ======================================================
figure                                    input
========================================  ======================================================
:func:`plot_participant_flow`             :func:`ips_study.cohort.participant_flow`
:func:`plot_trends`                       :func:`ips_study.panel.aggregate_panel`
:func:`plot_event_study`                  event-study results (``Results.event_time()``)
:func:`plot_synth_gap`                    ``ips_study.designs.synth`` results + aggregate panel
:func:`plot_synth_placebos`               ``ips_study.designs.synth`` results + aggregate panel
:func:`plot_staggered`                    ``ips_study.designs.staggered`` results
:func:`plot_km`                           ``ips_study.designs.survival`` Kaplan–Meier results
:func:`plot_cumulative_incidence`         ``ips_study.designs.survival`` cumulative incidence
:func:`plot_schoenfeld`                   ``ips_study.designs.survival`` Cox results (PH check)
:func:`plot_programme_metrics`            :func:`ips_study.caseload.metrics_by_quarter`
:func:`plot_fidelity_profile`             :mod:`ips_study.fidelity` review table
:func:`plot_ceac`, :func:`plot_tornado`   :func:`ips_study.economics.evaluate` results
:func:`plot_power_report`                 :func:`ips_study.power.power_report`
========================================  ======================================================

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> import pandas as pd
>>> from ips_study import figures
>>> flow = pd.DataFrame({"step": ["persons in the registers", "aged 18-40"],
...                      "treated": [900, 300], "controls": [5000, 2000], "total": [5900, 2300]})
>>> ax = figures.plot_participant_flow(flow, lang="en")
>>> [p.name for p in figures.save(ax, "/tmp/ips_fig_doctest/figure_1_flow")]
['figure_1_flow.png', 'figure_1_flow.pdf']
"""

from .economics import plot_ceac, plot_tornado
from .descriptive import plot_participant_flow, plot_trends, protect_flow, trend_table
from .effects import plot_event_study, plot_staggered, plot_synth_gap, plot_synth_placebos
from .labels import flow_step_label, group_label, label, metric_label, outcome_label
from .power import plot_mde_by, plot_power_compare, plot_power_report
from .programme import plot_fidelity_profile, plot_programme_metrics, protected_series
from .style import DPI, LANGUAGES, RC, SERIES, new_axes, save, series_style
from .survival import (add_number_at_risk, number_at_risk, plot_cumulative_incidence, plot_km,
                       plot_schoenfeld, safe_curves)

__all__ = [
    "DPI", "LANGUAGES", "RC", "SERIES", "add_number_at_risk", "flow_step_label", "group_label", "label",
    "metric_label", "new_axes", "number_at_risk", "outcome_label", "plot_ceac",
    "plot_cumulative_incidence", "plot_mde_by", "plot_power_compare", "plot_power_report",
    "plot_tornado",
    "plot_event_study", "plot_fidelity_profile", "plot_km", "plot_participant_flow",
    "plot_programme_metrics", "plot_schoenfeld", "plot_staggered", "plot_synth_gap", "plot_synth_placebos",
    "plot_trends", "protect_flow", "protected_series", "safe_curves", "save", "series_style",
    "trend_table",
]
