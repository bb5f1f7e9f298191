"""The Pusher's version folders appear whole: a reader polling the push folder never sees less."""

from __future__ import annotations

import os
import threading

from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components import atomic_pusher

FILES = {"saved_model.pb": 1 << 16, "variables/variables.data-00000-of-00001": 24 << 20}


def _model(tmp_path):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    serving = tmp_path / "model" / "Format-Serving"
    for name, size in FILES.items():
        (serving / name).parent.mkdir(parents=True, exist_ok=True)
        (serving / name).write_bytes(os.urandom(size))
    return model


def _push(tmp_path, model, base, blessed=True, name="pushed"):
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(tmp_path / name)
    destination = pusher_pb2.PushDestination(
        filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=str(base))
    )
    atomic_pusher.Executor().Do(
        {"model": [model], "model_blessing": [blessing]},
        {"pushed_model": [pushed]},
        {"push_destination": proto_utils.proto_to_json(destination), "custom_config": "null"},
    )
    return pushed


def _sizes(folder):
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def test_a_reader_polling_the_push_folder_sees_each_version_whole_or_not_at_all(tmp_path):
    model, base = _model(tmp_path), tmp_path / "serving"
    base.mkdir()
    seen, done = [], threading.Event()

    def poll():
        while not done.is_set():
            for folder in base.iterdir():
                if folder.name.isdigit():
                    seen.append(_sizes(folder))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        pushed = _push(tmp_path, model, base)
    finally:
        done.set()
        reader.join()
    final = base / pushed.get_string_custom_property("pushed_version")
    assert pushed.get_string_custom_property("pushed_destination") == str(final)
    assert _sizes(final) == FILES
    assert seen and all(s == FILES for s in seen), "a reader saw a half-written version"
    assert sorted(p.name for p in base.iterdir()) == [final.name]  # no staging folder left


def test_what_a_killed_push_left_is_removed_and_was_never_a_version(tmp_path):
    model, base = _model(tmp_path), tmp_path / "serving"
    partial = base / atomic_pusher.STAGING / "1700000000"
    partial.mkdir(parents=True)
    (partial / "saved_model.pb").write_bytes(b"half")
    pushed = _push(tmp_path, model, base)
    assert sorted(p.name for p in base.iterdir()) == [
        pushed.get_string_custom_property("pushed_version")
    ]


def test_a_model_that_is_not_blessed_is_not_pushed(tmp_path):
    model, base = _model(tmp_path), tmp_path / "serving"
    pushed = _push(tmp_path, model, base, blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not base.exists() or not any(base.iterdir())


def test_object_stores_keep_tfx_s_own_order():
    assert atomic_pusher.is_local("/srv/kfx/serving/penguin")
    assert not atomic_pusher.is_local("gs://bucket/serving/penguin")
