"""Estimation designs. Each module exposes a ``fit_panel`` entry point used by the CLI.

Every entry point has the signature::

    fit_panel(panel: DataFrame, *, outcome: str, config: StudyConfig,
              inference: str | None = None, **options) -> Results

where ``panel`` is a person-period panel in the format of data contract, section 5 (see
:mod:`ips_study.panel`). The registry below maps the CLI's ``--design`` names to them and
is imported lazily so that ``import ips_study`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Callable

#: ``--design`` name -> "module:function"
DESIGNS: dict[str, str] = {
    "did": "ips_study.designs.did:fit_panel",
    "event": "ips_study.designs.did:fit_event_panel",
    "synth": "ips_study.designs.synth:fit_panel",
    "sdid": "ips_study.designs.sdid:fit_panel",
    "staggered": "ips_study.designs.staggered:fit_panel",
    "km": "ips_study.designs.survival:fit_km_panel",
    "cox": "ips_study.designs.survival:fit_cox_panel",
    "cuminc": "ips_study.designs.survival:fit_cuminc_panel",
    "finegray": "ips_study.designs.survival:fit_finegray_panel",
    "dthazard": "ips_study.designs.survival:fit_dthazard_panel",
}


def get_design(name: str) -> Callable:
    """Return the ``fit_panel`` function of a design by its CLI name."""
    try:
        target = DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown design {name!r}; choose from {', '.join(DESIGNS)}") from None
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)
