"""``summary()``, ``tidy()``, ``to_json`` and ``etable`` with non-ASCII names (outside tester).

Norwegian outcome and covariate names (``arbeidsdager_ø``, ``alder²``), units named with
æøå, and the same names in decomposed Unicode (``"a"`` + combining ring, as macOS file
names and some exports give them) must render aligned, keep their exact spelling in
``tidy()`` and JSON, and match ``keep=``/``labels=`` however they were typed. Tests marked
"(bug)" failed before session 8: text tables padded by code points, so a decomposed "å"
shifted every cell to its right, and the two spellings were two rows of ``etable``.
"""

from __future__ import annotations

import json
import unicodedata
import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.results import display_width


def nfd(s):
    return unicodedata.normalize("NFD", s)


def nfc(s):
    return unicodedata.normalize("NFC", s)


def _persons(names, seed=5, n=400):
    """Survival data with the given names for (time, event, covariate, factor)."""
    tid, hend, alder, gruppe = names
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({alder: rng.normal(0, 1, n), gruppe: rng.choice(["Bodø", "Åfjord", "Hå"], n)})
    lin = 0.4 * d[alder] + 0.5 * (d[gruppe] == "Bodø")
    d[tid] = rng.exponential(10 * np.exp(-lin))
    d[hend] = rng.random(n) < 0.8
    return d


NAMES = ("tid_ø", "død", "alder²", "kommune_å")


def _cox(names):
    d = _persons(names)
    return ips.cox(d, stop=names[0], event=names[1], covariates=[names[2], names[3]])


def test_tidy_and_json_keep_the_exact_names():
    for spell in (nfc, nfd):
        names = tuple(spell(x) for x in NAMES)
        res = _cox(names)
        terms = list(res.tidy().index)
        assert names[2] in terms and all(t.startswith(names[3]) for t in terms[1:])
        levels = {"Bodø", "Åfjord", "Hå"}               # values as given; first sorted: reference
        assert len(terms) == 3 and {t[len(names[3]) + 1:-1] for t in terms[1:]} < levels
        back = json.loads(res.to_json())
        assert [r["term"] for r in back["terms"]] == terms
        assert back["estimate"] == pytest.approx(res.estimate)


def test_summary_aligns_decomposed_names_like_composed_ones():
    """(bug) pandas pads by code points: the decomposed table was one column off."""
    composed = str(_cox(NAMES).summary())
    decomposed = str(_cox(tuple(nfd(x) for x in NAMES)).summary())
    assert decomposed != composed                      # the names really are decomposed
    assert nfc(decomposed) == composed
    rows = composed.splitlines()
    table = rows[rows.index("-" * 40) + 1:]
    # right edges of the first column (coef) line up on every row
    head = table[0]
    first = head.split()[0]
    edge = display_width(head[:head.index(first) + len(first)])
    for line in table[2:]:
        if not line.startswith("Note"):
            cells = line.split()
            assert display_width(line[:line.index(cells[1]) + len(cells[1])]) == edge


def test_etable_aligns_and_merges_both_spellings():
    """(bug) the decomposed column was shifted left by one per decomposed letter, and the
    two spellings of a term made two rows."""
    a, b = _cox(NAMES), _cox(tuple(nfd(x) for x in NAMES))
    t = ips.etable([a, b], min_count=1)
    text = t.to_text()
    rule = text.splitlines()[0]
    width = display_width(rule)
    body = [ln for ln in text.splitlines()[1:] if ln and not ln.startswith(("Note", "=", "-"))]
    # both columns hold every row: each line reaches the right edge exactly
    assert body and all(display_width(ln) == width for ln in body)
    # one row per term (3 coefficients x estimate + SE), not one per spelling
    assert sum(1 for ln in body if ln.startswith(("Alder²", "Kommune å"))) == 3
    # keep= and labels= match however they are typed
    t2 = ips.etable([a, b], min_count=1, keep=[nfd("alder²")], labels={nfd("alder²"): "Alder i annen"})
    assert "Alder i annen" in t2.to_text() and "Kommune" not in t2.to_text()
    assert "Alder i annen" in t2.to_markdown() and "Alder i annen" in t2.to_html()


def test_did_family_with_norwegian_names_and_unit_labels():
    rng = np.random.default_rng(2)
    units = ["Bodø", "Tromsø", "Ålesund", "Kåfjord", "Ærøy", "Sør-Varanger", "Hå", "Øksnes"]
    rows = [{"kommune": u, "år": t, "tiltak_æ": int(k == 0 and t >= 2017),
             "arbeidsdager_ø": rng.normal() + (k == 0 and t >= 2017), "alder²": rng.normal(),
             "personer": 50 + k}
            for k, u in enumerate(units) for t in range(2013, 2020)]
    df = pd.DataFrame(rows)
    kw = {"y": "arbeidsdager_ø", "unit": "kommune", "time": "år", "treat": "tiltak_æ",
          "covariates": ["alder²"], "size": "personer"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ips.did(df, **kw)
        e = ips.event_study(df, **kw)
    for res in (r, e):
        s = str(res.summary())
        assert "arbeidsdager_ø" in s
        assert res.outcome == "arbeidsdager_ø"
        assert json.loads(res.to_json())["outcome"] == "arbeidsdager_ø"
    text = ips.etable([r, e], min_count=1).to_text()
    assert "Arbeidsdager_ø" in text
    width = display_width(text.splitlines()[0])
    assert max(display_width(ln) for ln in text.splitlines() if not ln.startswith("Note")) == width
