import pandas as pd
import pytest

from pipelines import own_csv, spans, tasks
from pipelines.errors import TaskError
from tests.unit.pipelines.csv_files import strings_csv
from trainers.penguin import features as penguin_features

PENGUIN_HEADER = "species,island,sex,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n"


def test_identical_data_reuses_the_newest_span(home, tmp_path):
    own_csv.register_csv(home, strings_csv(tmp_path, name="one.csv"), "kind", name="t")
    own_csv.register_csv(home, strings_csv(tmp_path, name="two.csv"), "kind", name="t")
    assert spans.spans(home.data_dir("t")) == [1]  # same content: the cache can hit
    own_csv.register_csv(home, strings_csv(tmp_path, n=30, name="three.csv"), "kind", name="t")
    assert spans.spans(home.data_dir("t")) == [1, 2]


def test_quarantined_span_numbers_are_not_reused(home, tmp_path):
    spec = tasks.get("penguin", home)
    root = spans.input_dir(home, spec)
    src = tmp_path / "p.csv"
    src.write_text(PENGUIN_HEADER + "Adelie,Dream,male,39.1,18.7,181,3750\n")
    bad = spans.stage_data(home, spec, src)
    assert bad.name == "span-2"
    moved = spans.quarantine(home, "penguin", bad, "2026-01-01T00:00:00.000")
    assert moved.parent == root / "rejected" and (moved / "data.csv").exists()
    assert spans.spans(root) == [1]
    src.write_text(PENGUIN_HEADER + "Gentoo,Biscoe,female,46.1,13.2,211,4500\n")
    assert spans.stage_data(home, spec, src).name == "span-3"


def test_stage_data_copies_file(home, tmp_path):
    spec = tasks.get("penguin", home)
    src = tmp_path / "p.csv"
    src.write_text(PENGUIN_HEADER + "Adelie,Dream,male,39.1,18.7,181,3750\n")
    folder = spans.stage_data(home, spec, src)
    assert (folder / "data.csv").read_bytes() == src.read_bytes()
    assert folder.is_relative_to(home.data_dir("penguin"))
    assert spans.stage_data(home, spec, src) == folder


def test_stage_data_missing_label(home, tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("island,sex\nDream,male\n")
    with pytest.raises(TaskError, match="no column 'species'") as err:
        spans.stage_data(home, tasks.get("penguin", home), src)
    assert "p.csv" in str(err.value)
    assert "the header is: island, sex" in str(err.value)


def test_stage_data_empty_file(home, tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("\n")
    with pytest.raises(TaskError, match="empty") as err:
        spans.stage_data(home, tasks.get("penguin", home), src)
    assert "p.csv" in str(err.value)


def test_stage_data_missing_file(home, tmp_path):
    with pytest.raises(TaskError, match="no such file"):
        spans.stage_data(home, tasks.get("penguin", home), tmp_path / "absent.csv")


def test_stage_data_for_csv_task_accepts_original_header(home, tmp_path):
    src = strings_csv(tmp_path)
    spec = own_csv.register_csv(home, src, "size class", name="fl")
    assert spans.stage_data(home, spec, src).is_dir()


def test_input_dir_of_csv_task(home, tmp_path):
    spec = own_csv.register_csv(home, strings_csv(tmp_path), "kind")
    folder = spans.input_dir(home, spec)
    assert folder == home.data_dir(spec.name) and spans.spans(folder) == [1]
    (folder / "span-1" / "data.csv").unlink()
    with pytest.raises(TaskError, match="has no data left"):
        spans.input_dir(home, spec)


def test_input_dir_writes_penguin_data(home):
    folder = spans.input_dir(home, tasks.get("penguin", home))
    frame = pd.read_csv(folder / "span-1" / "data.csv")
    assert list(frame.columns) == list(penguin_features.COLUMNS)
    assert len(frame) > 300
    assert not frame[list(penguin_features.NUMERIC)].isna().all(axis=1).any()
    assert frame["species"].notna().all()


def test_input_dir_writes_penguin_data_once(home):
    spec = tasks.get("penguin", home)
    data = spans.input_dir(home, spec) / "span-1" / "data.csv"
    data.write_text("species\nAdelie\n")
    assert spans.input_dir(home, spec) == data.parent.parent
    assert data.read_text() == "species\nAdelie\n"


def test_stage_data_drops_a_utf8_byte_order_mark_from_the_header(home, tmp_path):
    spec = tasks.get("penguin", home)
    src = tmp_path / "p.csv"
    src.write_bytes(
        b"\xef\xbb\xbf" + (PENGUIN_HEADER + "Adelie,Dream,male,39.1,18.7,181,3750\n").encode()
    )
    folder = spans.stage_data(home, spec, src)
    assert (folder / "data.csv").read_bytes() == src.read_bytes()[3:]  # ExampleGen reads `species`


def test_set_values_for_the_data_module_are_recorded_and_a_change_is_refused(home):
    spec = tasks.get("fashion_mlp", home)
    assert spans.data_keys(spec) == {"data_dir", "limit", "eval_size"}
    assert spans.data_keys(tasks.get("penguin", home)) == set()
    root = spans.input_dir(home, spec, {"limit": "20"})
    assert [len(list((root / "span-1" / s).iterdir())) for s in ("train", "eval", "test")] == [
        1,
        1,
        1,
    ]
    assert spans.input_dir(home, spec, {"limit": "20"}) == root  # the same settings: fine
    assert spans.input_dir(home, spec) == root  # none given: the data is what it is
    with pytest.raises(TaskError, match=r"--set limit=50: .* written with \{'limit': '20'\}"):
        spans.input_dir(home, spec, {"limit": "50"})


def test_a_data_module_error_names_the_task_and_leaves_no_half_span(home, tmp_path):
    spec = tasks.get("fashion_mlp", home)
    with pytest.raises(TaskError, match=r"fashion_mlp: .* lacks .*apt-get install"):
        spans.input_dir(home, spec, {"data_dir": str(tmp_path / "nowhere")})
    assert not list(home.data_dir("fashion_mlp").glob("*span*"))
