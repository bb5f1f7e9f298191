"""speech_transformer: a deterministic generator, voices held out, spectrogram and model shapes."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from trainers.common.features import InputFeatures, xf
from trainers.common.keras_trainer import Context
from trainers.speech_transformer import data, model, synth
from trainers.speech_transformer.features import SAMPLES, WAVEFORM, WORDS


def test_a_clip_is_the_same_bytes_every_time_and_its_own():
    wanted = synth.clips(synth.SPEAKERS[:2], speeds=(160,), pitches=(50,))[8:12]
    first, again = synth.waveforms(wanted, workers=2), synth.waveforms(wanted[::-1], workers=1)
    assert [w.tobytes() for w in first] == [w.tobytes() for w in again[::-1]]
    assert all(w.shape == (SAMPLES,) and w.dtype == np.float32 for w in first)
    assert all(np.abs(w).max() <= 1.0 for w in first)
    assert len({w.tobytes() for w in first}) == len(first)


def _stem(speaker: str) -> str:
    return speaker.split("+")[1].rstrip("0123456789").lower()


@pytest.mark.parametrize(("extra", "train"), [(data.EXTRA, 6960), (0, 2160)])
def test_test_and_eval_voices_never_speak_in_train(extra, train):
    parts = data.splits(extra_voices=extra)
    voices = {split: {c.speaker for c in clips} for split, clips in parts.items()}
    assert [len(voices[s]) for s in ("train", "eval", "test")] == [18 + extra, 6, 6]
    assert not voices["train"] & voices["eval"]
    assert not voices["train"] & voices["test"]
    assert not voices["eval"] & voices["test"]
    variants = {s: {v.split("+")[1] for v in voices[s]} for s in voices}
    assert not variants["train"] & (variants["eval"] | variants["test"])
    held_out = {_stem(v) for v in voices["eval"] | voices["test"]}
    assert not {_stem(v) for v in synth.TRAIN_SPEAKERS} & held_out  # no steph2 beside steph
    assert [len(parts[s]) for s in ("train", "eval", "test")] == [train, 720, 720]
    for clips in parts.values():  # every digit equally often
        assert {w: sum(c.word == w for c in clips) for w in WORDS} == {
            w: len(clips) // 10 for w in WORDS
        }


def test_train_only_voices_leave_eval_and_test_as_they_were():
    full, base = data.splits(), data.splits(extra_voices=0)
    assert full["eval"] == base["eval"] and full["test"] == base["test"]
    assert full["train"][: len(base["train"])] == base["train"]


def test_every_train_only_voice_sounds_unlike_the_plain_accent():
    wanted = [synth.Clip("seven", s, 160, 50) for s in synth.TRAIN_SPEAKERS]
    plain = [synth.Clip("seven", s.split("+")[0], 160, 50) for s in synth.TRAIN_SPEAKERS]
    for voiced, accent, clip in zip(
        synth.waveforms(wanted), synth.waveforms(plain), wanted, strict=True
    ):
        assert voiced.tobytes() != accent.tobytes(), clip.speaker


def test_written_examples_round_trip_and_a_limit_keeps_every_digit(tmp_path):
    data.write(tmp_path / "a", limit=10)
    data.write(tmp_path / "b", limit=10)
    rows = list(data.read(tmp_path / "a" / "test" / data.FILENAME))
    assert [word for _, word in rows] == list(WORDS)
    expected = synth.waveforms(data.splits(limit=10)["test"])
    assert all(w.tobytes() == e.tobytes() for (w, _), e in zip(rows, expected, strict=True))
    again = list(data.read(tmp_path / "b" / "test" / data.FILENAME))
    assert all(w.tobytes() == v.tobytes() for (w, _), (v, _) in zip(rows, again, strict=True))


def test_a_missing_synthesiser_names_the_apt_packages(monkeypatch):
    monkeypatch.setattr(synth.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"apt-get install espeak-ng sox"):
        synth.waveforms(synth.clips()[:1])


def test_log_mel_is_frames_by_bands_and_finite_on_silence():
    layer = model.LogMel(frame=200, step=80, mels=40)
    found = layer(tf.zeros([2, SAMPLES])).numpy()
    assert found.shape == (2, 1 + (SAMPLES - 200) // 80, 40)
    assert np.isfinite(found).all()
    copy = model.LogMel.from_config(layer.get_config())
    assert (copy.frame, copy.step, copy.mels) == (200, 80, 40)


def test_log_mel_stays_float32_under_mixed_precision():
    tf.keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        assert model.LogMel().compute_dtype == "float32"
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")


def _ctx() -> Context:
    features = InputFeatures((xf(WAVEFORM),), {}, {xf(WAVEFORM): (SAMPLES,)})
    return Context(features, "classification", 10, train_steps=10, classes=WORDS)


@pytest.mark.parametrize("kind", ["keras", "scratch"])
def test_the_model_takes_raw_waveforms_and_attends_over_downsampled_frames(kind):
    hp = model.HParams(dim=8, heads=2, blocks=1, attention=kind)
    net = model.build(_ctx(), hp)
    probs = net({xf(WAVEFORM): tf.random.uniform([3, SAMPLES], -0.5, 0.5, seed=1)}).numpy()
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    frames = 1 + (SAMPLES - hp.frame) // hp.step
    assert net.get_layer("block0").input_shape[1] == -(-frames // 4)  # two stride-2 convs


def test_spec_augment_masks_only_in_training_and_to_the_mean():
    layer = model.SpecAugment(bands=8, frames=10, seed=3)
    x = tf.random.normal([4, 98, 40], seed=2)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    masked = layer(x, training=True).numpy()
    changed = masked != x.numpy()
    assert changed.any() and changed.mean() < 0.5
    means = x.numpy().mean(axis=(1, 2))
    for clip in range(4):
        # atol: a mean near zero, summed in another order, differs in its last float32 bits.
        np.testing.assert_allclose(masked[clip][changed[clip]], means[clip], rtol=1e-5, atol=1e-7)
