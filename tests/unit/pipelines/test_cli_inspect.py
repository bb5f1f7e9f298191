"""User mistakes get one line naming the fix and exit 2; TensorBoard names and ports."""

from __future__ import annotations

import datetime
import socket

import pytest

from pipelines import board, cli, metadata
from pipelines.errors import TaskError


def _run(home, capsys, *args) -> tuple[int, str]:
    try:
        code = cli.main(["--home", str(home), *args])
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "penguin", "--trian-steps", "5"), "did you mean --train-steps?"),
        (("rnu", "penguin"), "did you mean run?"),
        (("run", "penguin", "--tuner", "randm"), "did you mean random?"),
        (("runs", "--jsno"), "did you mean --json?"),
        (("tensorboard", "penguin", "--port", "70000"), "a port is 0..65535"),
    ],
)
def test_argument_mistakes_are_one_line_with_the_fix(tmp_path, capsys, args, expected):
    code, err = _run(tmp_path, capsys, *args)
    assert code == cli.EXIT_USAGE
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err and "--help" in err


def test_the_subcommand_names_itself_in_the_hint(tmp_path, capsys):
    _, err = _run(tmp_path, capsys, "run", "penguin", "--trian-steps", "5")
    assert err.startswith("kfx run: error: unrecognized arguments") and "`kfx run --help`" in err


def test_a_home_that_is_a_file(tmp_path, capsys):
    home = tmp_path / "home"
    home.write_text("")
    code, err = _run(home, capsys, "runs")
    assert code == cli.EXIT_USAGE
    assert "is a file, not a directory" in err and "--home DIR" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("report", "penguin"), "run `kfx run penguin` first"),
        (("tensorboard", "penguin"), "run `kfx run penguin` first"),
        (("report", "unicorn"), "unknown task 'unicorn'"),
    ],
)
def test_inspecting_what_does_not_exist(tmp_path, capsys, args, expected):
    code, err = _run(tmp_path, capsys, *args)
    assert code == cli.EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and expected in err


def test_a_port_in_use_is_one_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(TaskError, match=rf"port {port} on 127.0.0.1 is in use.*--port"):
            board.check_port("127.0.0.1", port)


def test_run_names_have_no_tensorboard_separators():
    start = datetime.datetime(2026, 12, 1, 8, 33, 36).timestamp()
    run = metadata.RunSummary("penguin", "2026-12-01T08:33:36.283", start, 1.0, [], blessed=True)
    assert board.run_name(run) == "2026-12-01T08.33.36.283 blessed"  # the id holds the date
    other = metadata.RunSummary("penguin", "kfp-run-7", start, 1.0, [], blessed=None)
    assert board.run_name(other) == "kfp-run-7 2026-12-01 08.33 no-gate"
