"""``ips-study estimate --option KEY=VALUE``: values that are not JSON stay text, unknown keys
give one line listing the valid ones (issue 17)."""

import pytest

from ips_study.cli import main, parse_option
from ips_study.designs.did import aggregate, example_panel


@pytest.mark.parametrize("item, expected", [
    ("small_sample=fixest", ("small_sample", "fixest")),   # started with f: went to json.loads
    ("weights=n_persons", ("weights", "n_persons")),       # n
    ("group=treated_era", ("group", "treated_era")),       # t
    ("variance=size", ("variance", "size")),
    ("rmspe=false", ("rmspe", False)),
    ("reps=199", ("reps", 199)),
    ("window=[-4, 4]", ("window", [-4, 4])),
    ("level=municipality", ("level", "municipality")),
    ("weights=null", ("weights", None)),
])
def test_option_values(item, expected):
    assert parse_option(item) == expected


def test_option_without_equals_is_refused():
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_option("small_sample")


@pytest.fixture(scope="module")
def panel_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "agg.parquet"
    aggregate(example_panel(seed=1), "workdays").to_parquet(path)
    return path


def test_text_options_reach_the_design(panel_file, capsys):
    assert main(["estimate", str(panel_file), "--design", "did", "--outcome", "workdays",
                 "--inference", "cluster", "--option", "small_sample=stata",
                 "--option", "weights=n_persons"]) == 0
    assert "stata small-sample factor" in capsys.readouterr().out


def test_unknown_option_is_one_line_listing_valid_ones(panel_file, capsys):
    assert main(["estimate", str(panel_file), "--design", "did", "--outcome", "workdays",
                 "--option", "foo=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown --option 'foo' for design 'did'" in err
    assert "small_sample" in err and "variance" in err  # design and placebo-t options
    assert main(["estimate", str(panel_file), "--design", "event", "--outcome", "workdays",
                 "--inference", "placebo", "--option", "variance=size"]) == 2
    assert "valid:" in capsys.readouterr().err
