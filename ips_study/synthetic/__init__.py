"""Synthetic registers with known true effects: the package's default data.

Real register data is confidential, so :func:`generate` simulates registers in the exact
format of data contract, section 2, for a Norwegian 18-40 population in 28 municipalities (Bodø with IPS
from 2013-01, six later adopters), with the factual and the counterfactual (no IPS) world
on common random numbers, so the true effect of IPS is known exactly (``truth``).
:func:`write_synthetic` writes every table plus ``truth.json`` (``ips-study synth``);
``python -m ips_study.synthetic.embedded`` rebuilds the committed default data in
``synthetic_data/``.

Example
-------
>>> from ips_study.synthetic import generate, Effects
>>> data = generate(2000, seed=5, effects=Effects())         # doctest: +SKIP
>>> data.truth["att"]["workdays"]                            # doctest: +SKIP
"""

from .effects import Effects
from .generate import DEFAULT_N_PERSONS, DEFAULT_SEED, SyntheticData, generate, write_synthetic
from .messiness import MessSpec

__all__ = ["DEFAULT_N_PERSONS", "DEFAULT_SEED", "Effects", "MessSpec", "SyntheticData", "generate",
           "write_synthetic"]
