"""seq2seq: the number speller, disjoint generated splits, target ids, greedy decoding."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from trainers.common import attention
from trainers.common.features import InputFeatures, xf
from trainers.common.keras_trainer import Context
from trainers.seq2seq import data, model, numbers, preprocessing
from trainers.seq2seq.features import (
    BOS,
    EOS,
    PAD,
    SOURCE_LENGTH,
    TARGET_IDS,
    TARGET_LENGTH,
    WORDS,
)


def read_back(words: str) -> int:
    """An independent reader of spelled numbers (what the model must learn)."""
    values = {w: i for i, w in enumerate(numbers.ONES)}
    values.update({w: 10 * i for i, w in enumerate(numbers.TENS) if w != "_"})
    total = current = 0
    for word in words.split():
        if word == "hundred":
            current *= 100
        elif word == "thousand":
            total, current = total + current * 1000, 0
        else:
            current += values[word]
    return total + current


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (42, "forty two"),
        (105, "one hundred five"),
        (2000, "two thousand"),
        (105020, "one hundred five thousand twenty"),
        (999999, "nine hundred ninety nine thousand nine hundred ninety nine"),
    ],
)
def test_numbers_are_spelled_as_english_reads_them(n, words):
    assert numbers.spell(n) == words


def test_every_number_reads_back_and_fits_the_source_length():
    for n in [*range(0, 2100), *data.draw(5000, seed=1)]:
        words = numbers.spell(int(n))
        assert read_back(words) == n
        assert len(words.split()) <= SOURCE_LENGTH


@pytest.mark.parametrize("n", [-1, numbers.LARGEST + 1])
def test_numbers_outside_the_range_are_refused(n):
    with pytest.raises(ValueError, match="can be spelled"):
        numbers.spell(n)


def test_the_draw_is_seeded_distinct_and_covers_short_numbers():
    drawn = data.draw(3000)
    np.testing.assert_array_equal(drawn, data.draw(3000))
    assert not np.array_equal(drawn, data.draw(3000, seed=8))
    assert len(set(drawn.tolist())) == 3000
    assert set(range(10)) <= set(drawn.tolist())  # every one-digit number is drawn
    assert drawn.min() >= 0 and drawn.max() <= numbers.LARGEST


def test_round_numbers_are_common_and_zero_is_learnt():
    parts = data.splits()
    for split in ("train", "test"):
        share = np.mean([n % 1000 == 0 for n in parts[split]])
        assert share > 0.005  # against 0.001 for numbers drawn regardless of their zeros
    assert list(parts["train"]).count(0) == data.ZERO_COPIES  # the only one that says 'zero'


def test_no_test_or_eval_number_is_a_training_pair():
    parts = data.splits()
    train = set(parts["train"].tolist())
    assert [len(train), len(parts["eval"]), len(parts["test"])] == [20000, 2000, 2000]
    assert not train & set(parts["test"].tolist())
    assert not train & set(parts["eval"].tolist())
    assert not set(parts["eval"].tolist()) & set(parts["test"].tolist())


def test_written_files_are_byte_identical_and_read_back(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    data.write(first, limit=4)
    data.write(second, limit=4)
    for split in ("train", "eval", "test"):
        name = f"{split}/{data.FILENAME}"
        assert (first / name).read_bytes() == (second / name).read_bytes()
    rows = list(data.read(first / "test" / data.FILENAME))
    expected = data.splits(limit=4)["test"]
    assert rows == [(numbers.spell(int(n)), str(n)) for n in expected]


def test_target_ids_end_with_eos_to_the_full_length():
    ids = preprocessing.target_ids(tf.constant(["42", "999999", "0"])).numpy()
    assert ids.shape == (3, TARGET_LENGTH)
    assert ids[0].tolist() == [4, 2] + [EOS] * (TARGET_LENGTH - 2)
    assert ids[1].tolist() == [9] * 6 + [EOS]
    assert ids[2].tolist() == [0] + [EOS] * (TARGET_LENGTH - 1)


def test_the_padding_id_is_the_embeddings():
    assert PAD == attention.PAD


def test_the_decoder_starts_from_bos():
    target = tf.constant([[4, 2, EOS]], tf.int64)
    assert model.shifted(target).numpy().tolist() == [[BOS, 4, 2]]


def test_exact_match_needs_every_step():
    target = tf.constant([[1, 2], [1, 2]])
    probabilities = tf.one_hot([[1, 2], [1, 3]], TARGET_IDS)
    assert model.exact_match(target, probabilities).numpy().tolist() == [1.0, 0.0]


def _ctx(words: int = 32) -> Context:
    features = InputFeatures((), {xf(WORDS): words}, {xf(WORDS): (SOURCE_LENGTH,)})
    return Context(features, "sequence", TARGET_IDS, train_steps=10)


def _words(*rows):
    return np.array([list(r) + [PAD] * (SOURCE_LENGTH - len(r)) for r in rows], np.int64)


@pytest.mark.parametrize("kind", ["keras", "scratch"])
def test_a_step_never_reads_the_ids_after_it(kind):
    net = model.build(_ctx(), model.HParams(dim=16, heads=2, blocks=1, attention=kind))
    words = _words([3, 5, 7])
    previous = np.array([[BOS, 1, 2, 3, 4, 5, 6]], np.int64)
    changed = previous.copy()
    changed[0, 4:] = [9, 9, 9]
    before = net({xf(WORDS): words, model.DECODER_INPUT: previous}).numpy()
    after = net({xf(WORDS): words, model.DECODER_INPUT: changed}).numpy()
    np.testing.assert_allclose(after[0, :4], before[0, :4], atol=1e-5)
    assert not np.allclose(after[0, 4:], before[0, 4:])


def test_padding_words_are_never_read():
    net = model.build(_ctx(), model.HParams(dim=16, heads=2, blocks=1, dropout=0.0))
    previous = np.full([1, TARGET_LENGTH], BOS, np.int64)
    run = lambda w: net({xf(WORDS): w, model.DECODER_INPUT: previous}).numpy()  # noqa: E731
    before = run(_words([3, 5]))
    table = net.get_layer("words").table
    weights = table.get_weights()[0].copy()
    weights[0] += 10.0  # the padding row
    table.set_weights([weights])
    np.testing.assert_allclose(run(_words([3, 5])), before, atol=1e-5)


def test_greedy_decoding_is_the_teacher_forced_argmax_of_its_own_output():
    tf.keras.utils.set_random_seed(3)
    net = model.build(_ctx(), model.HParams(dim=16, heads=2, blocks=1, dropout=0.0))
    words = _words([3, 5, 7], [1], [2, 4, 6, 8])
    found = model.decode(net, {xf(WORDS): tf.constant(words)})
    ids = found["ids"].numpy()
    assert ids.shape == (3, TARGET_LENGTH)
    forced = net({xf(WORDS): words, model.DECODER_INPUT: model.shifted(ids)}).numpy()
    for row, text, score, probabilities in zip(
        ids, found["prediction"].numpy(), found["score"].numpy(), forced, strict=True
    ):
        end = list(row).index(EOS) + 1 if EOS in row else TARGET_LENGTH  # steps decoded
        assert row[:end].tolist() == probabilities.argmax(-1)[:end].tolist()
        assert set(row[end:].tolist()) <= {EOS}  # nothing but EOS after the end
        assert text.decode() == "".join(str(d) for d in row[:end] if d != EOS)
        np.testing.assert_allclose(score, np.prod(probabilities.max(-1)[:end]), rtol=1e-5)
