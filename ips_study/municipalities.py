"""Harmonise municipality codes (kommunenummer) to one vintage.

Norwegian municipality codes changed in the reforms of 2018 (Trøndelag: 16xx/17xx -> 50xx),
2020 (mergers and new county numbers) and 2024 (some mergers reversed: splits). Residence
spells are delivered with the code valid at the time; a panel needs one code per place. The
``municipality_changes`` table (``old_code``, ``new_code``, ``valid_from``) lists every change;
a code with one successor is a rename or a merger, a code with several successors on the same
date is a split.

Rules:

* chains are followed to the latest change on or before ``vintage`` (default: all changes);
* a merger or rename maps directly;
* a split assigns the spell to the successor the person is later found in (their next
  residence spell whose harmonised code is one of the successors); where nothing tells, the
  spell keeps its old code and is flagged ``split_unresolved`` (it then matches no study
  municipality, so the person-months drop out of the sample rather than being guessed).

>>> changes = pd.DataFrame({"old_code": ["1601"], "new_code": ["5001"],
...                         "valid_from": pd.to_datetime(["2018-01-01"])})
>>> final_codes(changes)["1601"]
('5001',)
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def final_codes(changes: pd.DataFrame, vintage=None) -> dict[str, tuple[str, ...]]:
    """Map each changed code to its set of final codes (sorted tuple) at ``vintage``."""
    ch = changes.copy()
    ch["valid_from"] = pd.to_datetime(ch["valid_from"])
    if vintage is not None:
        ch = ch[ch["valid_from"] <= pd.Timestamp(vintage)]
    ch = ch.sort_values("valid_from", kind="stable")
    succ: dict[str, list[tuple[pd.Timestamp, str]]] = {}
    for old, new, when in ch[["old_code", "new_code", "valid_from"]].itertuples(index=False):
        succ.setdefault(str(old), []).append((when, str(new)))

    memo: dict[tuple[str, pd.Timestamp | None], tuple[str, ...]] = {}

    def resolve(code: str, after: pd.Timestamp | None, depth: int = 0) -> tuple[str, ...]:
        if depth > 50:
            raise ValueError(f"municipality_changes has a cycle through {code}")
        key = (code, after)
        if key in memo:
            return memo[key]
        later = [(w, n) for w, n in succ.get(code, []) if after is None or w > after]
        if not later:
            out = (code,)
        else:
            first = min(w for w, _ in later)
            out = tuple(sorted({f for w, n in later if w == first for f in resolve(n, first, depth + 1)}))
        memo[key] = out
        return out

    return {code: resolve(code, None) for code in succ}


def harmonise_residence(residence: pd.DataFrame, changes: pd.DataFrame | None,
                        vintage=None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Residence spells with codes in one vintage, plus counts of what was done.

    Adds ``original_municipality`` and ``municipality_flag`` (``""``, ``"recoded"``,
    ``"split_resolved"``, ``"split_unresolved"``). Row count is unchanged.
    """
    res = residence.copy()
    res["original_municipality"] = res["municipality"].astype(str)
    res["municipality_flag"] = ""
    counts = {"recoded": 0, "split_resolved": 0, "split_unresolved": 0}
    if changes is None or len(changes) == 0:
        return res, counts
    final = final_codes(changes, vintage)
    code = res["municipality"].astype(str)
    single = {k: v[0] for k, v in final.items() if len(v) == 1 and v[0] != k}
    hit = code.isin(single.keys())
    res.loc[hit, "municipality"] = code[hit].map(single)
    res.loc[hit, "municipality_flag"] = "recoded"
    counts["recoded"] = int(hit.sum())

    split = code.isin([k for k, v in final.items() if len(v) > 1])
    if split.any():
        # only the spells of persons with a split spell need looking at
        persons = set(res.loc[split, "person_id"])
        sub = res[res["person_id"].isin(persons)].sort_values(["person_id", "start_date"], kind="stable")
        for pid, spells in sub.groupby("person_id", sort=False):
            labels = list(spells.index)
            for pos, label in enumerate(labels):
                if not split.loc[label]:
                    continue
                cands = set(final[res.at[label, "original_municipality"]])
                later = [res.at[lab, "municipality"] for lab in labels[pos + 1:]]
                found = next((c for c in later if c in cands), None)
                if found is not None:
                    res.at[label, "municipality"] = found
                    res.at[label, "municipality_flag"] = "split_resolved"
                    counts["split_resolved"] += 1
                else:
                    res.at[label, "municipality_flag"] = "split_unresolved"
                    counts["split_unresolved"] += 1
    return res, counts
