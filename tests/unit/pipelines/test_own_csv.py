import pandas as pd
import pytest

from pipelines import own_csv, spans, tasks
from pipelines.errors import TaskError
from tests.unit.pipelines.csv_files import newest_span, strings_csv, write_csv
from trainers.spec import USER_DATA


def test_register_string_label_is_classification(home, tmp_path):
    spec = own_csv.register_csv(home, strings_csv(tmp_path), "kind")
    assert spec.name == "flowers"
    assert spec.problem == "classification"
    assert spec.metric == "accuracy"
    assert spec.threshold == pytest.approx(0.61)
    assert spec.trainer == own_csv.TABULAR_TRAINER


def test_register_renames_columns_safely(home, tmp_path):
    spec = own_csv.register_csv(home, strings_csv(tmp_path), "kind")
    assert spec.data == USER_DATA
    staged = pd.read_csv(newest_span(home, spec.name))
    assert list(staged.columns) == ["x", "size_class", "kind"]


def test_register_label_with_space_uses_safe_name(home, tmp_path):
    spec = own_csv.register_csv(home, strings_csv(tmp_path), "size class")
    assert spec.label == "size_class"
    assert spec.threshold == pytest.approx(0.51)


def test_register_few_int_values_is_classification(home, tmp_path):
    frame = pd.DataFrame({"x": range(30), "grade": [1, 2, 3] * 10})
    spec = own_csv.register_csv(home, write_csv(tmp_path / "g.csv", frame), "grade")
    assert spec.problem == "classification"
    assert spec.threshold == pytest.approx(1 / 3 + 0.01, abs=1e-4)


def test_register_float_label_is_regression(home, tmp_path):
    values = [0.5 * i + 0.25 for i in range(30)]
    frame = pd.DataFrame({"x": range(30), "price": values})
    spec = own_csv.register_csv(home, write_csv(tmp_path / "p.csv", frame), "price")
    assert spec.problem == "regression"
    assert spec.metric == "rmse"
    assert spec.threshold == pytest.approx(pd.Series(values).std(ddof=0), rel=1e-5)
    assert spec.threshold != pytest.approx(pd.Series(values).std(ddof=1), rel=1e-5)


def test_register_many_int_values_is_regression(home, tmp_path):
    frame = pd.DataFrame({"x": range(40), "count": range(100, 140)})
    spec = own_csv.register_csv(home, write_csv(tmp_path / "c.csv", frame), "count")
    assert spec.problem == "regression"


def test_register_bool_label_is_classification(home, tmp_path):
    frame = pd.DataFrame({"x": range(20), "churn": [True, False, True, True] * 5})
    spec = own_csv.register_csv(home, write_csv(tmp_path / "b.csv", frame), "churn")
    assert spec.problem == "classification"
    assert spec.threshold == pytest.approx(0.76)


def test_register_explicit_threshold(home, tmp_path):
    spec = own_csv.register_csv(home, strings_csv(tmp_path), "kind", threshold=0.9)
    assert spec.threshold == 0.9


def test_reregister_with_other_label_fails(home, tmp_path):
    src = strings_csv(tmp_path)
    own_csv.register_csv(home, src, "kind", name="fl")
    with pytest.raises(TaskError, match="already exists with label 'kind'"):
        own_csv.register_csv(home, src, "size class", name="fl")
    assert tasks.get("fl", home).label == "kind"


def test_reregister_same_label_new_data(home, tmp_path):
    first = own_csv.register_csv(home, strings_csv(tmp_path), "kind", name="fl")
    assert spans.spans(home.data_dir("fl")) == [1]
    second = own_csv.register_csv(
        home, strings_csv(tmp_path, n=30, name="more.csv"), "kind", name="fl"
    )
    assert spans.spans(home.data_dir("fl")) == [1, 2]  # new data is the next span
    assert len(pd.read_csv(newest_span(home, "fl"))) == 30
    assert tasks.get("fl", home) == second and first.label == second.label


def test_register_builtin_name_rejected(home, tmp_path):
    with pytest.raises(TaskError, match="--name"):
        own_csv.register_csv(home, strings_csv(tmp_path), "kind", name="penguin")


@pytest.mark.parametrize("name", ["../../x", "a/b", ".hidden", "x y"])
def test_a_name_that_could_leave_the_home_is_refused_before_anything_is_written(
    home, tmp_path, name
):
    import contextlib
    import io

    from pipelines import cli

    src = strings_csv(tmp_path)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(
            ["--home", str(home.root), "run", "--data", str(src), "--label", "kind", "--name", name]
        )
    assert code == 2 and f"task name {name!r} is not usable" in err.getvalue()
    assert not home.root.exists()  # no lock, span or task file, in the home or above it
    assert not (tmp_path / "x.lock").exists()  # where HOME/locks/../../x.lock would land


def test_register_missing_file(home, tmp_path):
    with pytest.raises(TaskError, match="no such file") as err:
        own_csv.register_csv(home, tmp_path / "absent.csv", "kind")
    assert "absent.csv" in str(err.value)


def test_register_empty_file(home, tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text("")
    with pytest.raises(TaskError, match="the file is empty") as err:
        own_csv.register_csv(home, src, "kind")
    assert "empty.csv" in str(err.value)


def test_register_missing_label_lists_columns(home, tmp_path):
    with pytest.raises(TaskError) as err:
        own_csv.register_csv(home, strings_csv(tmp_path), "species")
    message = str(err.value)
    assert "flowers.csv" in message
    assert "'species'" in message
    assert "x, size class, kind" in message


def test_register_too_few_labelled_rows(home, tmp_path):
    frame = pd.DataFrame({"x": range(12), "kind": ["a", "b"] * 4 + [None] * 4})
    with pytest.raises(TaskError, match="at least 10 labelled rows") as err:
        own_csv.register_csv(home, write_csv(tmp_path / "few.csv", frame), "kind")
    assert "few.csv" in str(err.value)
    assert "'kind'" in str(err.value)
    assert "found 8 rows" in str(err.value)


def test_register_single_class_rejected(home, tmp_path):
    frame = pd.DataFrame({"x": range(12), "kind": ["a"] * 12})
    with pytest.raises(TaskError, match="2 distinct values"):
        own_csv.register_csv(home, write_csv(tmp_path / "one.csv", frame), "kind")


def test_register_drops_unlabelled_rows(home, tmp_path):
    frame = pd.DataFrame({"x": range(14), "kind": ["a", "b"] * 6 + [None, None]})
    spec = own_csv.register_csv(home, write_csv(tmp_path / "gaps.csv", frame), "kind")
    staged = pd.read_csv(newest_span(home, spec.name))
    assert len(staged) == 12
    assert staged["kind"].notna().all()
    assert spec.notes["dropped_unlabelled_rows"] == 2


def test_register_does_not_modify_source(home, tmp_path):
    src = strings_csv(tmp_path)
    before = src.read_bytes()
    own_csv.register_csv(home, src, "kind")
    assert src.read_bytes() == before


def test_freeze_schema_makes_later_runs_import_it(home, tmp_path):
    spec = own_csv.register_csv(home, strings_csv(tmp_path), "kind")
    assert spec.schema is None
    inferred = tmp_path / "schema.pbtxt"
    inferred.write_text('feature { name: "label" type: BYTES }\n')

    frozen = own_csv.freeze_schema(home, spec, inferred)

    assert frozen.schema_path == home.tasks_dir / f"{spec.name}.schema.pbtxt"
    assert frozen.schema_path.read_text() == inferred.read_text()
    assert tasks.get(spec.name, home).schema == frozen.schema
    # Registering new data for the task keeps validating against the frozen schema.
    again = own_csv.register_csv(home, strings_csv(tmp_path, name="more.csv"), "kind", spec.name)
    assert again.schema == frozen.schema
