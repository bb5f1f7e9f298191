import json

import pytest

from pipelines import cli
from tests.e2e.helpers import cli_state


@pytest.fixture(autouse=True)
def _restore_logging(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    with cli_state():
        yield


def _run(tmp_path, *argv):
    return cli.main(["--home", str(tmp_path), *argv])


def _no_pipeline_started(home):
    return not any((home / d).exists() for d in ("pipelines", "logs", "metadata.sqlite", "locks"))


def test_run_without_task_or_data(tmp_path, capsys):
    assert _run(tmp_path, "run") == cli.EXIT_USAGE
    assert "name a TASK" in capsys.readouterr().err
    assert _no_pipeline_started(tmp_path)


def test_run_data_without_label(tmp_path, capsys):
    src = tmp_path / "d.csv"
    src.write_text("a,b\n1,2\n")
    assert _run(tmp_path, "run", "--data", str(src)) == cli.EXIT_USAGE
    assert "--data FILE.csv --label COLUMN" in capsys.readouterr().err


def test_run_label_without_data(tmp_path, capsys):
    assert _run(tmp_path, "run", "penguin", "--label", "species") == cli.EXIT_USAGE
    assert "--label needs --data" in capsys.readouterr().err
    assert _no_pipeline_started(tmp_path)


def test_run_unknown_task(tmp_path, capsys):
    assert _run(tmp_path, "run", "unicorn") == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("kfx: unknown task 'unicorn'")
    assert "penguin" in err


def test_run_set_without_equals(tmp_path, capsys):
    assert _run(tmp_path, "run", "penguin", "--set", "nonsense") == cli.EXIT_USAGE
    assert "'nonsense'" in capsys.readouterr().err
    assert _no_pipeline_started(tmp_path)


def test_run_set_bad_value(tmp_path, capsys):
    assert _run(tmp_path, "run", "penguin", "--set", "units=abc") == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "units" in err
    assert "'abc'" in err
    assert _no_pipeline_started(tmp_path)


def test_run_set_unknown_key(tmp_path, capsys):
    assert _run(tmp_path, "run", "penguin", "--set", "colour=red") == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "colour" in err
    assert "learning_rate" in err


def test_train_steps_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _run(tmp_path, "run", "penguin", "--train-steps", "0")
    assert exc.value.code == 2
    assert "positive" in capsys.readouterr().err


def test_run_task_and_data_label_conflict(tmp_path, capsys):
    src = tmp_path / "d.csv"
    src.write_text("a,b\n1,2\n")
    code = _run(tmp_path, "run", "penguin", "--data", str(src), "--label", "b")
    assert code == cli.EXIT_USAGE
    assert "not both" in capsys.readouterr().err


def test_predict_without_model(tmp_path, capsys):
    code = _run(tmp_path, "predict", "penguin", "--input", str(tmp_path / "x.csv"))
    assert code == cli.EXIT_USAGE
    assert "run `kfx run penguin` first" in capsys.readouterr().err


def test_predict_unknown_task(tmp_path, capsys):
    code = _run(tmp_path, "predict", "unicorn", "--input", str(tmp_path / "x.csv"))
    assert code == cli.EXIT_USAGE
    assert "unknown task 'unicorn'" in capsys.readouterr().err


def test_tasks_json(tmp_path, capsys):
    assert _run(tmp_path, "tasks", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    penguin = next(r for r in rows if r["name"] == "penguin")
    assert penguin["metric"] == "accuracy"
    assert penguin["threshold"] == 0.97
    assert penguin["kind"] == "supervised"


def test_tasks_table(tmp_path, capsys):
    assert _run(tmp_path, "tasks") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["NAME", "KIND", "METRIC", "THRESHOLD"]
    rows = {line.split()[0]: line.split()[:4] for line in lines[1:]}
    assert rows["penguin"] == ["penguin", "supervised", "accuracy", "0.97"]


def test_runs_without_history(tmp_path, capsys):
    assert _run(tmp_path, "runs", "penguin", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
