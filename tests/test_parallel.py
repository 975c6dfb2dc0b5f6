"""Replications on Dask give the same numbers as in-process, whatever the number of workers."""

import numpy as np
import pytest

from ips_study import progress
from ips_study.parallel import _normal_mean, current_client, local_client, replicate, slurm_client
from ips_study.power import PowerDesign, VarianceComponents, compare_methods, power_curve


@pytest.fixture
def restore_progress():
    before = progress._ON
    yield
    progress._ON = before


def test_serial_replications_have_independent_streams_fixed_by_the_seed():
    a = replicate(_normal_mean, 50, seed=3, args=(20,))
    assert a == replicate(_normal_mean, 50, seed=3, args=(20,))
    assert a != replicate(_normal_mean, 50, seed=4, args=(20,))
    # the first replications do not depend on how many come after (one stream per replication)
    assert a[:10] == replicate(_normal_mean, 10, seed=3, args=(20,))
    assert len(set(a)) == 50
    # 50 means of 20 N(0,1): their SD is 1/sqrt(20) = 0.22; the sample SD of 50 such means
    # lies within 0.22 * (1 +- 3/sqrt(2*49)) = [0.157, 0.291] with probability > 0.997
    assert 0.157 < np.std(a, ddof=1) < 0.291


def test_replication_progress_follows_the_run_setting_and_stderr_is_empty_when_off(
        capfd, restore_progress):
    # the one progress mechanism (ips_study.progress): None follows the run's setting, which
    # is off in a library call and, on the command line, --no-progress or "not a terminal"
    expected = replicate(_normal_mean, 6, seed=5, args=(3,))
    assert capfd.readouterr() == ("", "")
    off = [(progress.configure(False), None), (progress.configure(None), None),  # not a tty here
           (progress.configure(True), False)]                                   # own flag wins
    for setting, flag in off:
        progress._ON = setting
        assert replicate(_normal_mean, 6, seed=5, args=(3,), progress=flag) == expected
        assert capfd.readouterr() == ("", ""), (setting, flag)
    for setting, flag in ((True, None), (False, True)):  # --progress, or asked for in the call
        progress._ON = setting
        assert replicate(_normal_mean, 6, seed=5, args=(3,), progress=flag, desc="size reps") == expected
        out, err = capfd.readouterr()
        assert out == "" and "size reps" in err and "/6 " in err and "rep" in err, (setting, flag)


def test_no_current_client_outside_a_cluster():
    assert current_client() is None


@pytest.fixture(scope="module")
def client():
    with local_client(n_workers=2) as c:
        yield c


def test_two_worker_cluster_gives_the_serial_numbers(client):
    serial = replicate(_normal_mean, 37, seed=11, args=(5,))
    assert replicate(_normal_mean, 37, seed=11, args=(5,), client=client) == serial
    assert replicate(_normal_mean, 37, seed=11, args=(5,), client=client, chunks=37) == serial
    assert len(client.nthreads()) == 2


def test_cluster_progress_counts_tasks_on_stderr_only_when_on(client, capsys, restore_progress):
    serial = replicate(_normal_mean, 8, seed=2, args=(4,))
    capsys.readouterr()
    progress._ON = False
    assert replicate(_normal_mean, 8, seed=2, args=(4,), client=client, chunks=4) == serial
    assert capsys.readouterr() == ("", "")
    progress._ON = True
    assert replicate(_normal_mean, 8, seed=2, args=(4,), client=client, chunks=4) == serial
    out, err = capsys.readouterr()
    assert out == "" and "replications" in err and "/4 " in err and "task" in err


def test_power_simulation_on_the_cluster_equals_serial(client):
    d = PowerDesign(VarianceComponents.example(n_controls=9), pre_years=3, post_years=2)
    serial = power_curve(d, [0.0, 20.0], reps=12, seed=7)
    spread = power_curve(d, [0.0, 20.0], reps=12, seed=7, client=client)
    assert serial.to_dict() == spread.to_dict()
    assert serial.intervals.equals(spread.intervals)
    a = compare_methods(d, [0.0, 20.0], methods=("cluster", "placebo"), reps=8, seed=2)
    b = compare_methods(d, [0.0, 20.0], methods=("cluster", "placebo"), reps=8, seed=2, client=client)
    assert a.equals(b)


def test_slurm_client_hands_the_job_shape_to_dask_jobqueue(monkeypatch):
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    seen = {}

    class FakeCluster:
        def __init__(self, **kw):
            seen["options"] = kw

        def scale(self, jobs):
            seen["jobs"] = jobs

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            seen["closed"] = True

    class FakeClient:
        def __init__(self, cluster):
            seen["cluster"] = cluster

        def __enter__(self):
            return "client"

        def __exit__(self, *exc):
            return None

    monkeypatch.setattr(dask_jobqueue, "SLURMCluster", FakeCluster)
    monkeypatch.setattr("distributed.Client", FakeClient)
    with slurm_client(10, cores=4, memory="8GB", walltime="01:00:00", account="p123") as c:
        assert c == "client"
    assert seen["jobs"] == 10 and seen["closed"]
    assert seen["options"] == {"cores": 4, "processes": 4, "memory": "8GB",
                               "walltime": "01:00:00", "account": "p123"}


def test_size_studies_on_the_cluster_equal_serial(client, tmp_path):
    # issue 22 item 5: the size/coverage harness (ips_study.simulate) runs through replicate
    from ips_study.simulate import replicate_resumable, simulate, size_replication

    kw = dict(reps=5, methods=("cluster", "placebo-t"), seed=4, wild_options={"reps": 99})
    serial = simulate(**kw)
    spread = simulate(**kw, client=client)
    assert serial.attrs["records"] == spread.attrs["records"]
    assert serial.equals(spread)
    # a checkpointed run in blocks of 2, interrupted after 3 replications and resumed on the
    # cluster, gives the same records again
    ck = tmp_path / "ck.jsonl"
    simulate(**{**kw, "reps": 3}, checkpoint=ck, block=2)
    resumed = simulate(**kw, checkpoint=ck, block=2, client=client)
    assert resumed.attrs["records"] == serial.attrs["records"]
    assert len(ck.read_text().splitlines()) == 5
    # the issue-19 size replications (three treated units, staggered)
    opts = dict(methods=("placebo-t",), treated_sizes=(200, 20000), starts=(4, 6))
    a = replicate_resumable(size_replication, 3, seed=9, kwargs=opts)
    b = replicate_resumable(size_replication, 3, seed=9, kwargs=opts, client=client)
    strip = lambda recs: [{k: v for k, v in r.items() if k != "cpu_s"} for r in recs]  # noqa: E731
    assert strip(a) == strip(b) and [r["rep"] for r in a] == [0, 1, 2]


@pytest.mark.slow  # starts a Jupyter kernel: 5-30 s on the shared machine
def test_replication_progress_in_a_notebook_is_text_on_stderr_and_off_unless_asked(tmp_path):
    # in a Jupyter kernel tqdm.auto drew an ipywidgets bar, or warned "IProgress not found"
    # without ipywidgets; the one mechanism writes plain text to the kernel's stderr instead
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    from tests.test_notebooks import _kernel_manager

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "from ips_study.parallel import _normal_mean, replicate\n"
        "draws = replicate(_normal_mean, 5, seed=1, args=(3,))",
        "draws == replicate(_normal_mean, 5, seed=1, args=(3,), progress=True, desc='power')")]
    NotebookClient(nb, km=_kernel_manager(tmp_path), timeout=120, allow_errors=False).execute()
    default, asked = (c.outputs for c in nb.cells)
    assert default == []  # a library call in a notebook shows no progress unless asked
    kinds = [(o.output_type, o.get("name")) for o in asked]
    assert set(kinds) == {("stream", "stderr"), ("execute_result", None)}, kinds
    err = "".join(o.text for o in asked if o.output_type == "stream")
    assert "power" in err and "/5 " in err and "IProgress" not in err
    assert [o.data["text/plain"] for o in asked if o.output_type == "execute_result"] == ["True"]
