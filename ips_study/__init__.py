"""ips_study: register-based evaluation of Individual Placement and Support (IPS).

One call per design, on any long DataFrame with any column names::

    import ips_study as ips

    res = ips.did(df, y="workdays", unit="municipality", time="year", treat="ips")
    res.summary()

Difference-in-differences family: :func:`did`, :func:`event_study`, :func:`synth`,
:func:`sdid`, :func:`att_gt`, :func:`bacon`. Survival: :func:`cox`, :func:`kaplan_meier`,
:func:`cumulative_incidence`, :func:`fine_gray`, :func:`discrete_hazard`. Sensitivity and
single-unit inference: :func:`honest_did` (Rambachan–Roth), :func:`conformal_test` and
:func:`conformal_interval` (Chernozhukov–Wüthrich–Zhu). Tables across models: :func:`etable`.
Register pipeline:
:func:`read_registers`, :func:`build_panel`, :class:`StudyConfig`; embedded synthetic data:
:mod:`ips_study.datasets`.

Names are imported on first use (PEP 562), so ``import ips_study`` stays fast and light.

Example
-------
>>> import ips_study as ips
>>> ips.__version__
'0.2.0'
"""

from __future__ import annotations

import importlib

#: the package version (single source: ``pyproject.toml`` reads it from here)
__version__ = "0.2.0"

#: public name -> "module:attribute", resolved lazily on first access
_LAZY: dict[str, str] = {
    # difference-in-differences family
    "did": "ips_study.designs.did:did",
    "event_study": "ips_study.designs.event:event_study",
    "synth": "ips_study.designs.synth:synth",
    "sdid": "ips_study.designs.sdid:sdid",
    "att_gt": "ips_study.designs.staggered:att_gt",
    "bacon": "ips_study.designs.bacon:bacon",
    # survival
    "cox": "ips_study.designs.survival.fitters:cox",
    "kaplan_meier": "ips_study.designs.survival.fitters:kaplan_meier",
    "cumulative_incidence": "ips_study.designs.survival.fitters:cumulative_incidence",
    "fine_gray": "ips_study.designs.survival.fitters:fine_gray",
    "discrete_hazard": "ips_study.designs.survival.fitters:discrete_hazard",
    # inference beyond a design's own: sensitivity to parallel trends, conformal inference
    "honest_did": "ips_study.inference.honest:honest_did",
    "conformal_test": "ips_study.inference.conformal:conformal_test",
    "conformal_interval": "ips_study.inference.conformal:conformal_interval",
    # tables across models
    "etable": "ips_study.tables:etable",
    # register pipeline
    "read_registers": "ips_study.registers:read_registers",
    "validate_directory": "ips_study.registers:validate_directory",
    "build_panel": "ips_study.panel:build_panel",
    "StudyConfig": "ips_study.config:StudyConfig",
    "Results": "ips_study.results:Results",
    # subpackages
    "datasets": "ips_study.datasets",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    try:
        target = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'ips_study' has no attribute {name!r}") from None
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
