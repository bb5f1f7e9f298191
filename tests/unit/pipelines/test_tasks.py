import json

import pandas as pd
import pytest

from pipelines import tasks
from pipelines.home import Home
from pipelines.tasks import TaskError
from trainers.penguin import features as penguin_features


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path / "home")


def _csv(path, frame):
    frame.to_csv(path, index=False)
    return path


def _strings(tmp_path, n=20, name="flowers.csv"):
    labels = ["a"] * (n * 6 // 10) + ["b"] * (n - n * 6 // 10)
    frame = pd.DataFrame({"x": range(n), "size class": ["s", "l"] * (n // 2), "kind": labels})
    return _csv(tmp_path / name, frame)


def test_get_penguin(home):
    spec = tasks.get("penguin", home)
    assert spec.label == "species"
    assert spec.problem == "classification"
    assert spec.metric == "accuracy"
    assert spec.schema_path.is_file()


def test_get_unknown_lists_known_tasks(home, tmp_path):
    tasks.register_csv(home, _strings(tmp_path), "kind", name="mine")
    with pytest.raises(TaskError, match="unknown task 'nope'") as err:
        tasks.get("nope", home)
    assert "penguin" in str(err.value)
    assert "mine" in str(err.value)


@pytest.mark.parametrize(
    ("column", "expected"),
    [("size class", "size_class"), ("1x", "f_1x"), ("a-b", "a_b"), (" weight ", "weight")],
)
def test_feature_name(column, expected):
    assert tasks.feature_name(column) == expected


def test_register_string_label_is_classification(home, tmp_path):
    spec = tasks.register_csv(home, _strings(tmp_path), "kind")
    assert spec.name == "flowers"
    assert spec.problem == "classification"
    assert spec.metric == "accuracy"
    assert spec.threshold == pytest.approx(0.61)
    assert spec.trainer == tasks.TABULAR_TRAINER


def _newest_span(home, name):
    root = home.data_dir(name)
    return root / f"span-{tasks.spans(root)[-1]}" / "data.csv"


def test_register_renames_columns_safely(home, tmp_path):
    spec = tasks.register_csv(home, _strings(tmp_path), "kind")
    assert spec.data == tasks.USER_DATA
    staged = pd.read_csv(_newest_span(home, spec.name))
    assert list(staged.columns) == ["x", "size_class", "kind"]


def test_register_label_with_space_uses_safe_name(home, tmp_path):
    spec = tasks.register_csv(home, _strings(tmp_path), "size class")
    assert spec.label == "size_class"
    assert spec.threshold == pytest.approx(0.51)


def test_register_few_int_values_is_classification(home, tmp_path):
    frame = pd.DataFrame({"x": range(30), "grade": [1, 2, 3] * 10})
    spec = tasks.register_csv(home, _csv(tmp_path / "g.csv", frame), "grade")
    assert spec.problem == "classification"
    assert spec.threshold == pytest.approx(1 / 3 + 0.01, abs=1e-4)


def test_register_float_label_is_regression(home, tmp_path):
    values = [0.5 * i + 0.25 for i in range(30)]
    frame = pd.DataFrame({"x": range(30), "price": values})
    spec = tasks.register_csv(home, _csv(tmp_path / "p.csv", frame), "price")
    assert spec.problem == "regression"
    assert spec.metric == "rmse"
    assert spec.threshold == pytest.approx(pd.Series(values).std(ddof=0), rel=1e-5)
    assert spec.threshold != pytest.approx(pd.Series(values).std(ddof=1), rel=1e-5)


def test_register_many_int_values_is_regression(home, tmp_path):
    frame = pd.DataFrame({"x": range(40), "count": range(100, 140)})
    spec = tasks.register_csv(home, _csv(tmp_path / "c.csv", frame), "count")
    assert spec.problem == "regression"


def test_register_bool_label_is_classification(home, tmp_path):
    frame = pd.DataFrame({"x": range(20), "churn": [True, False, True, True] * 5})
    spec = tasks.register_csv(home, _csv(tmp_path / "b.csv", frame), "churn")
    assert spec.problem == "classification"
    assert spec.threshold == pytest.approx(0.76)


def test_register_explicit_threshold(home, tmp_path):
    spec = tasks.register_csv(home, _strings(tmp_path), "kind", threshold=0.9)
    assert spec.threshold == 0.9


def test_registered_task_persists(home, tmp_path):
    spec = tasks.register_csv(home, _strings(tmp_path), "kind", name="fl")
    saved = json.loads((home.tasks_dir / "fl.json").read_text())
    assert saved["label"] == "kind"
    assert tasks.get("fl", home) == spec
    names = [s.name for s in tasks.all_tasks(home)]
    assert names == [*tasks.BUILTIN, "fl"]  # built-in tasks first, then the home's


def test_reregister_with_other_label_fails(home, tmp_path):
    src = _strings(tmp_path)
    tasks.register_csv(home, src, "kind", name="fl")
    with pytest.raises(TaskError, match="already exists with label 'kind'"):
        tasks.register_csv(home, src, "size class", name="fl")
    assert tasks.get("fl", home).label == "kind"


def test_reregister_same_label_new_data(home, tmp_path):
    first = tasks.register_csv(home, _strings(tmp_path), "kind", name="fl")
    assert tasks.spans(home.data_dir("fl")) == [1]
    second = tasks.register_csv(home, _strings(tmp_path, n=30, name="more.csv"), "kind", name="fl")
    assert tasks.spans(home.data_dir("fl")) == [1, 2]  # new data is the next span
    assert len(pd.read_csv(_newest_span(home, "fl"))) == 30
    assert tasks.get("fl", home) == second and first.label == second.label


def test_register_builtin_name_rejected(home, tmp_path):
    with pytest.raises(TaskError, match="--name"):
        tasks.register_csv(home, _strings(tmp_path), "kind", name="penguin")


def test_register_missing_file(home, tmp_path):
    with pytest.raises(TaskError, match="no such file") as err:
        tasks.register_csv(home, tmp_path / "absent.csv", "kind")
    assert "absent.csv" in str(err.value)


def test_register_empty_file(home, tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text("")
    with pytest.raises(TaskError, match="the file is empty") as err:
        tasks.register_csv(home, src, "kind")
    assert "empty.csv" in str(err.value)


def test_register_missing_label_lists_columns(home, tmp_path):
    with pytest.raises(TaskError) as err:
        tasks.register_csv(home, _strings(tmp_path), "species")
    message = str(err.value)
    assert "flowers.csv" in message
    assert "'species'" in message
    assert "x, size class, kind" in message


def test_register_too_few_labelled_rows(home, tmp_path):
    frame = pd.DataFrame({"x": range(12), "kind": ["a", "b"] * 4 + [None] * 4})
    with pytest.raises(TaskError, match="at least 10 labelled rows") as err:
        tasks.register_csv(home, _csv(tmp_path / "few.csv", frame), "kind")
    assert "few.csv" in str(err.value)
    assert "'kind'" in str(err.value)
    assert "found 8 rows" in str(err.value)


def test_register_single_class_rejected(home, tmp_path):
    frame = pd.DataFrame({"x": range(12), "kind": ["a"] * 12})
    with pytest.raises(TaskError, match="2 distinct values"):
        tasks.register_csv(home, _csv(tmp_path / "one.csv", frame), "kind")


def test_register_drops_unlabelled_rows(home, tmp_path):
    frame = pd.DataFrame({"x": range(14), "kind": ["a", "b"] * 6 + [None, None]})
    spec = tasks.register_csv(home, _csv(tmp_path / "gaps.csv", frame), "kind")
    staged = pd.read_csv(_newest_span(home, spec.name))
    assert len(staged) == 12
    assert staged["kind"].notna().all()
    assert spec.custom_config["dropped_unlabelled_rows"] == 2


def test_register_does_not_modify_source(home, tmp_path):
    src = _strings(tmp_path)
    before = src.read_bytes()
    tasks.register_csv(home, src, "kind")
    assert src.read_bytes() == before


def test_identical_data_reuses_the_newest_span(home, tmp_path):
    tasks.register_csv(home, _strings(tmp_path, name="one.csv"), "kind", name="t")
    tasks.register_csv(home, _strings(tmp_path, name="two.csv"), "kind", name="t")
    assert tasks.spans(home.data_dir("t")) == [1]  # same content: the cache can hit
    tasks.register_csv(home, _strings(tmp_path, n=30, name="three.csv"), "kind", name="t")
    assert tasks.spans(home.data_dir("t")) == [1, 2]


def test_quarantined_span_numbers_are_not_reused(home, tmp_path):
    spec = tasks.get("penguin", home)
    root = tasks.input_dir(home, spec)
    src = tmp_path / "p.csv"
    src.write_text("species,island\nAdelie,Dream\n")
    bad = tasks.stage_data(home, spec, src)
    assert bad.name == "span-2"
    moved = tasks.quarantine(home, "penguin", bad, "2026-01-01T00:00:00.000")
    assert moved.parent == root / "rejected" and (moved / "data.csv").exists()
    assert tasks.spans(root) == [1]
    src.write_text("species,island\nGentoo,Biscoe\n")
    assert tasks.stage_data(home, spec, src).name == "span-3"


def test_stage_data_copies_file(home, tmp_path):
    spec = tasks.get("penguin", home)
    src = tmp_path / "p.csv"
    src.write_text("species,island\nAdelie,Dream\n")
    folder = tasks.stage_data(home, spec, src)
    assert (folder / "data.csv").read_bytes() == src.read_bytes()
    assert folder.is_relative_to(home.data_dir("penguin"))
    assert tasks.stage_data(home, spec, src) == folder


def test_stage_data_missing_label(home, tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("island,sex\nDream,male\n")
    with pytest.raises(TaskError, match="no column 'species'") as err:
        tasks.stage_data(home, tasks.get("penguin", home), src)
    assert "p.csv" in str(err.value)
    assert "the header is: island, sex" in str(err.value)


def test_stage_data_empty_file(home, tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("\n")
    with pytest.raises(TaskError, match="empty") as err:
        tasks.stage_data(home, tasks.get("penguin", home), src)
    assert "p.csv" in str(err.value)


def test_stage_data_missing_file(home, tmp_path):
    with pytest.raises(TaskError, match="no such file"):
        tasks.stage_data(home, tasks.get("penguin", home), tmp_path / "absent.csv")


def test_stage_data_for_csv_task_accepts_original_header(home, tmp_path):
    src = _strings(tmp_path)
    spec = tasks.register_csv(home, src, "size class", name="fl")
    assert tasks.stage_data(home, spec, src).is_dir()


def test_input_dir_of_csv_task(home, tmp_path):
    spec = tasks.register_csv(home, _strings(tmp_path), "kind")
    folder = tasks.input_dir(home, spec)
    assert folder == home.data_dir(spec.name) and tasks.spans(folder) == [1]
    (folder / "span-1" / "data.csv").unlink()
    with pytest.raises(TaskError, match="has no data left"):
        tasks.input_dir(home, spec)


def test_input_dir_writes_penguin_data(home):
    folder = tasks.input_dir(home, tasks.get("penguin", home))
    frame = pd.read_csv(folder / "span-1" / "data.csv")
    assert list(frame.columns) == list(penguin_features.COLUMNS)
    assert len(frame) > 300
    assert not frame[list(penguin_features.NUMERIC)].isna().all(axis=1).any()
    assert frame["species"].notna().all()


def test_input_dir_writes_penguin_data_once(home):
    spec = tasks.get("penguin", home)
    data = tasks.input_dir(home, spec) / "span-1" / "data.csv"
    data.write_text("species\nAdelie\n")
    assert tasks.input_dir(home, spec) == data.parent.parent
    assert data.read_text() == "species\nAdelie\n"


def test_freeze_schema_makes_later_runs_import_it(home, tmp_path):
    spec = tasks.register_csv(home, _strings(tmp_path), "kind")
    assert spec.schema is None
    inferred = tmp_path / "schema.pbtxt"
    inferred.write_text('feature { name: "label" type: BYTES }\n')

    frozen = tasks.freeze_schema(home, spec, inferred)

    assert frozen.schema_path == home.tasks_dir / f"{spec.name}.schema.pbtxt"
    assert frozen.schema_path.read_text() == inferred.read_text()
    assert tasks.get(spec.name, home).schema == frozen.schema
    # Registering new data for the task keeps validating against the frozen schema.
    again = tasks.register_csv(home, _strings(tmp_path, name="more.csv"), "kind", spec.name)
    assert again.schema == frozen.schema
