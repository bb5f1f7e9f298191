"""LatestPushedModel: the newest pushed version as a Model, or an absent marker (no MLMD)."""

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components import artifacts, pushed_model


def _push(serving_dir: str, version: str, payload: str = "model") -> None:
    folder = f"{serving_dir}/{version}"
    tf.io.gfile.makedirs(f"{folder}/variables")
    for name in ("saved_model.pb", "variables/variables.index"):
        with tf.io.gfile.GFile(f"{folder}/{name}", "w") as handle:
            handle.write(f"{payload}:{version}:{name}")


def _model(uri: str):
    model = standard_artifacts.Model()
    model.uri = uri
    return model


def test_newest_version_is_the_highest_number_with_a_saved_model():
    root = "ram://pushed-newest/serving"
    _push(root, "1700000000")
    _push(root, "1800000000")
    tf.io.gfile.makedirs(f"{root}/1900000000")  # a half-written push: no saved_model.pb
    tf.io.gfile.makedirs(f"{root}/notes")
    assert pushed_model.newest_version(root) == f"{root}/1800000000"


def test_nothing_pushed_marks_the_model_absent_and_readers_see_none():
    model = _model("ram://pushed-none/out")
    pushed_model.LatestPushedModel.test_call(model, serving_dir="ram://pushed-none/serving")
    assert artifacts.present(model) is None
    assert not tf.io.gfile.exists(path_utils.serving_model_dir(model.uri))


def test_the_newest_push_is_copied_where_tfx_readers_look():
    root = "ram://pushed-copy/serving"
    _push(root, "1", "old")
    _push(root, "2", "new")
    model = _model("ram://pushed-copy/out")
    pushed_model.LatestPushedModel.test_call(model, serving_dir=root)
    served = path_utils.serving_model_dir(model.uri)
    with tf.io.gfile.GFile(f"{served}/variables/variables.index") as handle:
        assert handle.read() == "new:2:variables/variables.index"
    assert artifacts.present(model) is model
    assert model.get_string_custom_property(pushed_model.PUSHED_FROM) == f"{root}/2"


def test_a_required_model_that_was_never_pushed_fails_naming_the_folder():
    model = _model("ram://pushed-required/out")
    with pytest.raises(FileNotFoundError, match="ram://pushed-required/serving: no pushed model"):
        pushed_model.LatestPushedModel.test_call(
            model, serving_dir="ram://pushed-required/serving", required=1
        )


def test_a_model_without_saved_model_or_marker_stays_present_so_its_reader_fails_closed():
    assert artifacts.present(_model("ram://pushed-broken/out")) is not None
    assert artifacts.present(None) is None
