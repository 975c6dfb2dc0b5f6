"""Shared fixtures. Tests force the Agg backend and never need a display or network."""

from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# Property tests are reproducible: the same examples on every run and machine (no example
# database, derandomized), so a failure in CI is a failure locally too.
settings.register_profile("ips_study", derandomize=True, database=None, deadline=None)
settings.load_profile("ips_study")


@pytest.fixture(scope="session")
def small_synthetic_dir(tmp_path_factory):
    """A small synthetic register delivery (6,000 persons, messy rows, truth.json), written once."""
    from ips_study.synthetic import write_synthetic

    out = tmp_path_factory.mktemp("synthetic") / "registers"
    write_synthetic(out, persons=6000, seed=11)
    return out


@pytest.fixture(scope="session")
def prop99():
    """California's Proposition 99 panel (tests/data/README.md) with the treatment column ``d``."""
    df = pd.read_csv(Path(__file__).parent / "data" / "prop99_smoking.csv")
    df["d"] = ((df["state"] == "California") & (df["year"] >= 1989)).astype(int)
    return df
