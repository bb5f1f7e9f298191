"""An encoder-decoder transformer: written-out numbers in, digits out, decoded greedily.

Training is teacher-forced: the decoder reads the target shifted right (BOS first) and
predicts every next id at once, causally masked. Serving decodes greedily inside the
signature (`decode`), so TF Serving, TFMA and `kfx predict` all get the decoded string.
With teacher forcing, all steps right means greedy decoding is right: `exact_match` on eval
is the same number the gate reads from greedy decoding on test.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import attention, examples, keras_run, keras_trainer, signatures
from trainers.common.features import xf
from trainers.seq2seq.features import (
    BOS,
    DIGITS,
    EOS,
    LABEL,
    SOURCE_LENGTH,
    TARGET_IDS,
    TARGET_LENGTH,
    WORDS,
)

DECODER_INPUT = "decoder_input"  # model input: the target shifted right, BOS first


def shifted(target: tf.Tensor) -> tf.Tensor:
    """Teacher forcing's decoder input: [BOS, t0, ..., t(T-2)] for targets [B, T]."""
    start = tf.fill([tf.shape(target)[0], 1], tf.constant(BOS, target.dtype))
    return tf.concat([start, target[:, :-1]], axis=1)


@tf.keras.utils.register_keras_serializable(package="kfx")
def exact_match(y_true, y_pred):
    """1.0 per example whose every step's most likely id is the target's (teacher-forced)."""
    target = tf.cast(tf.reshape(y_true, tf.shape(y_pred)[:2]), tf.int64)
    hit = tf.equal(tf.argmax(y_pred, -1), target)
    return tf.cast(tf.reduce_all(hit, axis=-1), tf.float32)


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Seq2seq transformer hyper-parameters."""

    batch_size: int = 64
    """Pairs per training batch."""
    learning_rate: float = 1e-3
    """Adam's (peak) learning rate."""
    dim: int = 64
    """Token width of the encoder and the decoder."""
    heads: int = 4
    """Attention heads per block."""
    blocks: int = 2
    """Encoder blocks, and as many decoder blocks."""
    dropout: float = 0.1
    """Dropout in the blocks and after the embeddings."""
    attention: str = "keras"
    """keras (tf.keras MultiHeadAttention) or scratch (trainers/common/attention.SelfAttention)."""
    name: str = "seq2seq"
    """Model name."""

    def __post_init__(self):
        """Rejects an unknown attention before any work is done."""
        super().__post_init__()
        attention.check(self.attention)


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Words → encoder; shifted digits → causal decoder attending to it → next-id softmax."""
    key = xf(WORDS)
    words = tf.keras.Input((SOURCE_LENGTH,), dtype=tf.int64, name=key)
    previous = tf.keras.Input((TARGET_LENGTH,), dtype=tf.int64, name=DECODER_INPUT)
    vectors, keep = attention.TokenEmbedding(ctx.features.categorical[key], hp.dim, name="words")(
        words
    )
    x = attention.PositionEmbedding(SOURCE_LENGTH, name="word_positions")(vectors)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    mask = tf.keras.layers.Lambda(attention.key_mask, name="padding_mask")(keep)
    memory = attention.encoder(x, hp.dim, hp.heads, hp.blocks, hp.dropout, hp.attention, mask)
    y = tf.keras.layers.Embedding(BOS + 1, hp.dim, name="digits")(previous)
    y = attention.PositionEmbedding(TARGET_LENGTH, name="digit_positions")(y)
    y = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(y)
    y = attention.decoder(y, memory, hp.dim, hp.heads, hp.blocks, hp.dropout, hp.attention, mask)
    probabilities = tf.keras.layers.Dense(
        TARGET_IDS, activation="softmax", name="next_id", dtype="float32"
    )(y)
    model = tf.keras.Model({key: words, DECODER_INPUT: previous}, probabilities, name=hp.name)
    model.compile(
        optimizer=keras_trainer.optimizer(hp, ctx, model),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy"), exact_match],
    )
    return model


def decode(model: tf.keras.Model, inputs: dict) -> dict:
    """Greedy decoding of transformed inputs: {ids [B, T], prediction (string), score}.

    Step i feeds the ids chosen so far and takes the most likely id at position i (the
    causal mask hides the positions not yet chosen). After EOS every id is EOS, as in the
    targets, so the ids equal the label exactly when the string does. `score` is the
    product of the chosen ids' probabilities up to EOS.
    """
    words = inputs[xf(WORDS)]
    batch = tf.shape(words)[0]
    chosen = tf.fill([batch, TARGET_LENGTH], tf.constant(BOS, tf.int64))
    done = tf.zeros([batch], tf.bool)
    score = tf.ones([batch], tf.float32)
    ids = []
    for step in range(TARGET_LENGTH):
        probabilities = model({xf(WORDS): words, DECODER_INPUT: chosen}, training=False)[:, step]
        best = tf.argmax(probabilities, axis=-1)
        best = tf.where(done, tf.constant(EOS, tf.int64), best)
        score *= tf.where(done, 1.0, tf.reduce_max(probabilities, axis=-1))
        done |= tf.equal(best, EOS)
        ids.append(best)
        if step + 1 < TARGET_LENGTH:
            chosen = tf.concat([chosen[:, : step + 1], best[:, None], chosen[:, step + 2 :]], 1)
    ids = tf.stack(ids, axis=1)
    characters = tf.constant([*DIGITS, ""])  # EOS writes nothing
    text = tf.strings.reduce_join(tf.gather(characters, ids), axis=-1)
    return {"ids": ids, "prediction": text, "score": score}


def load(fn_args, config, hp) -> keras_trainer.TrainData:
    """The transformed pairs as ({words, decoder input}, target ids) batches."""
    data = examples.load(fn_args, config, hp)

    def teacher_forced(x, y):
        return {**x, DECODER_INPUT: shifted(y)}, y

    ctx = dataclasses.replace(data.ctx, n_classes=TARGET_IDS)
    return dataclasses.replace(
        data, ctx=ctx, train=data.train.map(teacher_forced), val=data.val.map(teacher_forced)
    )


def export(model, serving_dir: str, data: keras_trainer.TrainData, hp=None) -> None:
    """The SavedModel whose `serving_default` decodes greedily (raw tf.Examples in)."""
    del hp
    signatures.export(
        model,
        serving_dir,
        data.transform_output,
        LABEL,
        data.config.problem,
        input_keys=[xf(WORDS)],
        respond=decode,
    )


def search_space(kt_hp) -> dict:
    """What `--tune` searches: width, depth, dropout and the learning rate."""
    return {
        "dim": kt_hp.Choice("dim", [32, 64, 128]),
        "blocks": kt_hp.Choice("blocks", [1, 2, 3]),
        "dropout": kt_hp.Choice("dropout", [0.0, 0.1, 0.2]),
        "learning_rate": kt_hp.Choice("learning_rate", [3e-4, 1e-3, 3e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build, data=load, export=export)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the number reader."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the transformer's size, dropout and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
