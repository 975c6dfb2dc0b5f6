"""Reference numbers from pyfixest for tests/test_api_did_reference.py (issue 17).

Run from the repository root with a Python that has pyfixest (not the project's locked venv):
``/work/peers/did/bin/python tests/reference/did_roles_pyfixest.py``. It writes
``did_roles_panel.csv`` (the data) and ``did_roles_pyfixest_output.csv`` (the numbers).
Versions: pyfixest 0.60.0, pandas 2.3, numpy 2. Default CRV1 small-sample convention
(ips_study's ``small_sample="fixest"``); demeaning tolerance ``fixef_tol=1e-12`` (the
default 1e-8 leaves SE differences of about 6e-8 on this unbalanced panel).

The panel is shaped like another study's, not the package's: Norwegian column names, integer
person ids, integer years; persons (``pid``) nested in municipalities (``kommune``), three of
which adopt the programme (``tiltak``): two in 2014, one in 2016, and one treated
municipality is unbalanced (no rows in 2012; 12% of all rows dropped at random).
"""
import numpy as np
import pandas as pd

rng = np.random.default_rng(2026)
adopt = {"K03": 2014, "K07": 2014, "K11": 2016}
rows = []
pid = 1000
for m in range(18):
    k = f"K{m:02d}"
    shock = rng.normal(0, 2, 10)
    for _ in range(int(rng.integers(8, 25))):
        a = rng.normal(50, 10)
        for j, year in enumerate(range(2010, 2020)):
            if k == "K07" and year == 2012:
                continue
            d = int(k in adopt and year >= adopt[k])
            alder = 20 + j + rng.integers(0, 30)
            rows.append((k, pid, year, d, float(alder), float(rng.uniform(0.5, 2.0)),
                         a + 0.8 * j + shock[j] + 0.1 * alder + 3.0 * d + rng.normal(0, 5)))
        pid += 1
df = pd.DataFrame(rows, columns=["kommune", "pid", "aar", "tiltak", "alder", "vekt", "lonn"])
df = df.sample(frac=0.88, random_state=3).sort_values(["pid", "aar"]).reset_index(drop=True)
df["lonn"] = df["lonn"].round(6)
df["vekt"] = df["vekt"].round(6)
df.to_csv("tests/reference/did_roles_panel.csv", index=False)

if __name__ == "__main__":
    import pyfixest as pf

    out = []
    for case, fml, kw in [
        ("did", "lonn ~ tiltak | pid + aar", {}),
        ("did_x_w", "lonn ~ tiltak + alder | pid + aar", {"weights": "vekt"}),
    ]:
        m = pf.feols(fml, data=df, vcov={"CRV1": "kommune"}, fixef_tol=1e-12, **kw)
        out.append((case, "treated_post", m.coef()["tiltak"], m.se()["tiltak"]))
    # event study: event time of treated municipalities' rows, endpoints binned at -3 and 3
    first = df[df["tiltak"] == 1].groupby("kommune")["aar"].min()
    e = np.clip(df["aar"] - df["kommune"].map(first), -3, 3)
    names = []
    for b in range(-3, 4):
        if b != -1:
            name = f"ev{b}".replace("-", "m")
            df[name] = (e == b).astype(float)
            names.append((name, f"event_{b}"))
    m = pf.feols("lonn ~ " + " + ".join(n for n, _ in names) + " | pid + aar", data=df,
                 vcov={"CRV1": "kommune"}, fixef_tol=1e-12)
    for name, term in names:
        out.append(("event", term, m.coef()[name], m.se()[name]))
    res = pd.DataFrame(out, columns=["case", "term", "estimate", "std_error"])
    res.to_csv("tests/reference/did_roles_pyfixest_output.csv", index=False,
               float_format="%.15g")
    print(res)
