"""The package as a user installs it: declared dependencies, packaged data, the installed wheel.

The slow test builds the wheel, installs it into a fresh virtual environment (runtime lock
only, no access to the checkout), and runs what the README promises from a folder far from
the checkout: ``import ips_study``, the README's Python example, ``ips-study reproduce`` on
the packaged data, and ``ips-study check-outputs`` on what it wrote.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports(root: Path) -> set[str]:
    """Top-level names of every module imported anywhere in ``root`` (lazy imports included)."""
    names = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("ips_study", "__future__")}


def test_packages_listed_in_pyproject_match_the_tree():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "ips_study").rglob("__init__.py")}
    assert listed == on_disk | {"ips_study.datasets.synthetic"}
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]["ips_study.datasets.synthetic"]
    assert (ROOT / mapped / "persons.parquet").is_file()


def _declared(requirements) -> dict[str, set[str]]:
    """requirement name -> the distribution names it brings (``dask[distributed]`` brings
    ``dask`` and ``distributed``)."""
    out = {}
    for r in requirements:
        name = _requirement_name(r)
        extras = re.search(r"\[(.*?)\]", r)
        out[name] = {name} | ({e.strip() for e in extras.group(1).split(",")} if extras else set())
    return out


def test_every_runtime_import_is_declared_and_every_declaration_used():
    runtime = _declared(PYPROJECT["project"]["dependencies"])
    optional = {n for n in _declared(PYPROJECT["project"]["optional-dependencies"]["slurm"])}
    dists = metadata.packages_distributions()
    imported = set()
    for module in _third_party_imports(ROOT / "ips_study"):
        assert module in dists, f"ips_study imports {module!r}, which no installed distribution provides"
        imported.update(d.lower().replace("_", "-") for d in dists[module])
    provided = set().union(*runtime.values())
    assert imported - provided - optional == set(), "imported by ips_study but not declared in pyproject"
    # jinja2 is used through pandas' Styler (Results.summary().as_latex/as_html), not imported
    indirect = {"jinja2"}
    unused = {n for n, brings in runtime.items() if not brings & imported} - indirect
    assert unused == set(), "declared in pyproject but never imported"


def test_version_has_one_source():
    import ips_study

    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ips_study.__version__"}
    assert metadata.version("ips-study") == ips_study.__version__
    assert f"## [{ips_study.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_public_top_level_resolves_every_name():
    import ips_study

    missing = []
    for name in ips_study.__all__:
        try:
            getattr(ips_study, name)
        except (AttributeError, ImportError) as exc:
            missing.append(f"{name}: {exc}")
    assert not missing, missing
    assert (ROOT / "ips_study" / "py.typed").is_file()


def test_packaged_data_loads_through_importlib_resources():
    import ips_study as ips

    d = ips.datasets.registers_dir()
    assert {p.name for p in d.glob("*.parquet")} >= {f"{t}.parquet" for t in ips.datasets.TABLES}
    assert ips.datasets.load_truth()["treated_municipality"] == "1804"
    with pytest.raises(ValueError, match="unknown table"):
        ips.datasets.load_table("nope")


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no Python example"
    return blocks[0]


def _run(cmd, cwd, env, timeout=900):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.mark.slow
def test_installed_wheel_runs_readme_example_and_reproduce(tmp_path):
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is installed by `make` from requirements/installer.lock; run through make test")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{Path(uv).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    # build from a copy of what the wheel is made of, so that setuptools' build/ folder is not
    # written into the checkout
    src = tmp_path / "src"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("ips_study", "synthetic_data"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--installer", "uv", "--outdir", str(dist), str(src)],
         cwd=tmp_path, env=env)
    wheel = next(dist.glob("ips_study-*.whl"))
    assert wheel.stat().st_size < 10 * 2**20, "the wheel should stay under about 10 MB"

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=env)
    py = venv / "bin" / "python"
    _run([uv, "pip", "install", "--quiet", "--python", str(py), "--require-hashes", "-r",
          str(ROOT / "requirements" / "runtime.lock")], cwd=tmp_path, env=env)
    _run([uv, "pip", "install", "--quiet", "--python", str(py), "--no-deps", str(wheel)], cwd=tmp_path, env=env)

    away = tmp_path / "elsewhere"
    away.mkdir()
    env["IPS_STUDY_WORK"] = str(tmp_path / "work")
    where = _run([str(py), "-c", "import ips_study, ips_study.datasets as d; "
                  "print(ips_study.__file__); print(d.registers_dir()); print(ips_study.__version__)"],
                 cwd=away, env=env).stdout.split()
    assert all(str(venv) in line for line in where[:2]), where
    assert ROOT.as_posix() not in " ".join(where)

    (away / "example.py").write_text(_readme_example(), encoding="utf-8")
    _run([str(py), "example.py"], cwd=away, env=env)

    ips = venv / "bin" / "ips-study"
    assert _run([str(ips), "--version"], cwd=away, env=env).stdout.strip().endswith(where[2])
    out = tmp_path / "outputs"
    _run([str(ips), "reproduce", "--out", str(out), "--quiet"], cwd=away, env=env, timeout=1800)
    assert (out / "run_manifest.json").is_file()
    assert len(list(out.glob("table_*.csv"))) >= 10 and len(list(out.glob("figure_*.png"))) >= 8
    _run([str(ips), "check-outputs", str(out)], cwd=away, env=env)
    # nothing (quarantine, caches) is written beside the user's files or the outputs
    assert sorted(p.name for p in away.iterdir()) == ["example.py"]
    assert not (out / "quarantine").exists()


def test_readme_output_table_is_the_pipelines_list():
    """The README's figure/table map is a copy of the one list of outputs; it must not drift."""
    from ips_study.reproduce.__main__ import output_table

    assert output_table() in (ROOT / "README.md").read_text(encoding="utf-8")
