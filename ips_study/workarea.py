"""The confidential work area: where intermediates that hold person ids go.

Panels, partition files and quarantined register rows carry person ids; they must stay on
the secure server and never sit inside or beside the input (a register delivery is often
read-only or shared) or the output folder (outputs leave the server). This module is low in
the package (no ips_study imports), so the register readers and the reproduce pipeline
share one default.

Example
-------
>>> import os
>>> os.environ["IPS_STUDY_WORK"] = "/secure/work"
>>> str(default_work())
'/secure/work'
>>> default_quarantine("/data/delivery_2024").parent.as_posix()
'/secure/work/quarantine'
>>> del os.environ["IPS_STUDY_WORK"]
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path


#: default output folder of the reproduce pipeline, relative to where the command runs (the
#: repository root under make); here, beside the work area's default, so that the pipeline
#: and its run lock share one definition
DEFAULT_OUT = Path("figures")


def default_work() -> Path:
    """Confidential work area for intermediates that hold person ids (panels, quarantine).

    ``$IPS_STUDY_WORK`` if set, else ``ips_study/work`` under the user's cache folder
    (``$XDG_CACHE_HOME`` or ``~/.cache``): never inside or beside the input or output folders,
    because outputs leave the secure server and intermediates must not.
    """
    env = os.environ.get("IPS_STUDY_WORK")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "ips_study" / "work"


def default_quarantine(source: str | Path) -> Path:
    """Where the quarantined rows of the register folder ``source`` go by default.

    ``<work area>/quarantine/<folder name>-<8 hex digits of its absolute path>``: one
    folder per delivery, so two deliveries with the same folder name never mix.
    """
    path = Path(source).resolve()
    tag = hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:8]
    name = re.sub(r"[^\w.-]+", "_", path.name) or "registers"
    return default_work() / "quarantine" / f"{name}-{tag}"
