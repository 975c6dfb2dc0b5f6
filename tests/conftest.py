"""Shared fixtures. Tests force the Agg backend and never need a display or network."""

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def small_synthetic_dir(tmp_path_factory):
    """A small synthetic register delivery (3,000 persons, messy rows, truth.json), written once."""
    from ips_study.synthetic import write_synthetic

    out = tmp_path_factory.mktemp("synthetic") / "registers"
    write_synthetic(out, persons=3000, seed=11)
    return out
