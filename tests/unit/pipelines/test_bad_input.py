"""The bad-input catalog: every kind of broken CSV stops `kfx run --data` with one line.

Each file goes through the real CLI, both as a new span of a built-in task (penguin, with its
curated schema) and, where it applies, as a bring-your-own CSV. Each must exit 2 with one
error line naming the file, the column (and row where one is to blame) and a fix, before
anything is written: no span, no task file, no pipeline run, the serving folder untouched.
"""

from __future__ import annotations

import contextlib
import io

import pytest

from pipelines import cli

HEADER = "species,island,sex,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g"
ROWS = [
    "Adelie,Torgersen,male,39.1,18.7,181,3750",
    "Gentoo,Biscoe,female,46.1,13.2,211,4500",
    "Chinstrap,Dream,female,46.5,17.9,192,3500",
] * 4


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _swap(column: str, value: str, row: int = 3) -> bytes:
    """The good rows with one cell replaced (`row` counted as a spreadsheet does)."""
    names = HEADER.split(",")
    rows = [r.split(",") for r in ROWS]
    rows[row - 2][names.index(column)] = value
    return _csv(*(",".join(r) for r in rows))


# (id, file bytes, what the one error line must contain)
CATALOG = [
    ("empty", b"", ["the file is empty"]),
    ("header only", _csv(), ["no data rows below the header"]),
    (
        "missing column",
        _csv(*(r.rsplit(",", 1)[0] for r in ROWS), header=HEADER.rsplit(",", 1)[0]),
        ["missing column(s) body_mass_g", "penguin"],
    ),
    (
        "extra column",
        _csv(*(r + ",7" for r in ROWS), header=HEADER + ",tag"),
        ["column(s) tag are not in task 'penguin'", "--name"],
    ),
    (
        "wrong type",
        _swap("body_mass_g", "heavy"),
        ["row 3, column 'body_mass_g'", "'heavy' is not a number", "fix the cell"],
    ),
    (
        "infinity",
        _swap("bill_depth_mm", "inf", row=5),
        ["row 5, column 'bill_depth_mm'", "'inf' is not a finite number"],
    ),
    (
        "unseen class",
        _swap("species", "Emperor", row=4),
        ["row 4, column 'species'", "class 'Emperor' is not one task 'penguin' knows", "Adelie"],
    ),
    (
        "label missing",
        _csv(*(r.split(",", 1)[1] for r in ROWS), header=HEADER.split(",", 1)[1]),
        ["no column 'species'", "the header is: island"],
    ),
    (
        "not utf-8",
        _swap("island", "Dr\xe9am").replace("Dr\xe9am".encode(), b"Dr\xe9am"),
        ["row 3, column 'island'", "is not UTF-8", "save the file as UTF-8"],
    ),
    (
        "huge field",
        _csv(f'Adelie,"{"x" * (1 << 21)}",male,39.1,18.7,181,3750'),
        ["row 2", "field larger than field limit", "quote"],
    ),
    (
        "duplicate header",
        _csv(*(r + ",3750" for r in ROWS), header=HEADER + ",body_mass_g"),
        ["column 'body_mass_g' appears twice in the header (columns 7 and 8)", "rename one"],
    ),
    (
        "wrong delimiter",
        _csv(*(r.replace(",", ";") for r in ROWS), header=HEADER.replace(",", ";")),
        ["the file separates values with semicolons", "save it with commas"],
    ),
    (
        "not a csv",
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        ["not a CSV file (a PNG image)", "comma-separated text"],
    ),
    (
        "ragged row",
        _csv(*ROWS[:3], "Adelie,Torgersen,male,39.1,18.7,181"),
        ["row 5 has 6 values for the 7 columns", '"quotes"'],
    ),
]


def _kfx(home, *args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli.main(["--home", str(home), *args])
        except SystemExit as exit_:
            code = exit_.code
    return code, err.getvalue()


def _snapshot(home) -> dict:
    """Every file under the home except locks (a refused run may take its task's lock)."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in home.rglob("*")
        if p.is_file() and "locks" not in p.parts
    }


@pytest.fixture
def served_home(tmp_path):
    """A home whose penguin data and served model must survive every bad file."""
    home = tmp_path / "home"
    (home / "data" / "penguin" / "span-1").mkdir(parents=True)
    (home / "data" / "penguin" / "span-1" / "data.csv").write_bytes(_csv(*ROWS))
    version = home / "serving" / "penguin" / "1700000000"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"the served model")
    return home


def _refused(home, path, expected: list[str], *args: str) -> None:
    before = _snapshot(home)
    code, err = _kfx(home, "run", *args)
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert str(path) in lines[0], lines[0]
    for part in expected:
        assert part in lines[0], lines[0]
    assert _snapshot(home) == before  # nothing written, nothing lost, the model still served
    assert not (home / "pipelines").exists()


@pytest.mark.parametrize(("kind", "content", "expected"), CATALOG, ids=[c[0] for c in CATALOG])
def test_a_bad_new_span_of_a_built_in_task_is_refused_before_anything_is_written(
    served_home, tmp_path, kind, content, expected
):
    path = tmp_path / "new.csv"
    path.write_bytes(content)
    _refused(served_home, path, expected, "penguin", "--data", str(path))


def test_the_good_rows_of_the_catalog_become_a_span(served_home, tmp_path):
    """The checks refuse the broken files, not the data they were made from."""
    from pipelines import spans, tasks
    from pipelines.home import Home

    assert len(CATALOG) >= 13
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(*ROWS[:-1], "Gentoo,Biscoe,,50.0,15.2,,5000"))  # empty: missing
    home = Home(served_home)
    span = spans.stage_data(home, tasks.get("penguin", home), good)
    assert span.name == "span-2" and (span / "data.csv").read_bytes() == good.read_bytes()


# The kinds that also apply to a file registered as a new task (no schema to hold it to).
OWN = [
    "empty",
    "header only",
    "wrong type",
    "infinity",
    "not utf-8",
    "huge field",
    "duplicate header",
    "wrong delimiter",
    "not a csv",
    "ragged row",
]


@pytest.mark.parametrize("kind", OWN)
def test_a_bad_file_brought_as_a_new_task_is_refused(tmp_path, kind):
    content, expected = next((c, e) for k, c, e in CATALOG if k == kind)
    if kind == "wrong type":  # one typo among numbers: the column is numeric
        content = _csv(*(ROWS * 10)).replace(b"3750", b"heavy", 1)
        expected = ["row 2, column 'body_mass_g'", "'heavy' is not a number"]
    home = tmp_path / "home"
    home.mkdir()
    path = tmp_path / "mine.csv"
    path.write_bytes(content)
    _refused(home, path, expected, "--data", str(path), "--label", "species")
    assert not (home / "tasks").exists()


def test_a_new_task_with_a_column_of_words_is_not_a_typo(tmp_path):
    from pipelines import csv_check

    path = tmp_path / "mixed.csv"
    path.write_bytes(b"code,label\n" + b"".join(b"%d,a\n" % i for i in range(50)) + b"x1,b\n" * 5)
    assert "code" not in csv_check.numeric_columns(csv_check.read(path))  # 9% words
