"""trainers/common/attention: masks, attention from scratch against Keras', position codes."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from trainers.common import attention


def test_causal_mask_lets_each_query_see_only_the_past_and_itself():
    mask = attention.causal_mask(4).numpy()
    assert mask.tolist() == [
        [True, False, False, False],
        [True, True, False, False],
        [True, True, True, False],
        [True, True, True, True],
    ]


def test_masked_keys_get_exactly_zero_weight():
    rng = np.random.default_rng(0)
    q, k, v = (tf.constant(rng.normal(size=(2, 5, 8)), tf.float32) for _ in range(3))
    keep = tf.constant([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    mask = tf.logical_and(attention.causal_mask(5)[None], attention.key_mask(keep))
    _, weights = attention.scaled_dot_product_attention(q, k, v, mask)
    weights = weights.numpy()
    assert np.all(weights[0][:, 3:] == 0.0)
    assert np.all(np.triu(weights[1], 1) == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)


def test_attention_matches_the_textbook_formula():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    scores = q @ k.T / 2.0
    expected = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True) @ v
    got, _ = attention.scaled_dot_product_attention(
        *(tf.constant(x, tf.float64) for x in (q, k, v))
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("kind", attention.ATTENTION)
def test_a_causal_block_never_reads_the_future(kind):
    block = attention.TransformerBlock(16, 2, 0.0, attention=kind)
    tokens = tf.random.stateless_normal([1, 6, 16], seed=[1, 2])
    mask = attention.causal_mask(6)[None]
    changed = tf.concat([tokens[:, :4], tokens[:, 4:] + 5.0], axis=1)  # only steps 4 and 5
    before, after = block(tokens, mask), block(changed, mask)
    np.testing.assert_allclose(before[:, :4].numpy(), after[:, :4].numpy(), atol=1e-5)
    assert not np.allclose(before[:, 4:].numpy(), after[:, 4:].numpy())
    assert before.shape == (1, 6, 16)


@pytest.mark.parametrize("kind", attention.ATTENTION)
def test_a_decoder_block_reads_its_past_and_only_the_memory_it_may(kind):
    tf.keras.utils.set_random_seed(0)
    block = attention.DecoderBlock(8, 2, 0.0, attention=kind)
    tokens = tf.random.normal([1, 5, 8])
    memory = tf.random.normal([1, 4, 8])
    keep = attention.key_mask(tf.constant([[1, 1, 1, 0]]))  # the last memory slot is padding
    before = block(tokens, memory, keep).numpy()
    future = tf.concat([tokens[:, :3], tf.random.normal([1, 2, 8])], axis=1)
    np.testing.assert_allclose(block(future, memory, keep).numpy()[:, :3], before[:, :3], atol=1e-5)
    padded = tf.concat([memory[:, :3], tf.random.normal([1, 1, 8])], axis=1)
    np.testing.assert_allclose(block(tokens, padded, keep).numpy(), before, atol=1e-5)
    read = tf.concat([tf.random.normal([1, 1, 8]), memory[:, 1:]], axis=1)
    assert not np.allclose(block(tokens, read, keep).numpy(), before)


def test_scratch_attention_equals_keras_with_the_same_weights():
    x = tf.random.stateless_normal([2, 5, 8], seed=[3, 4])
    mask = attention.causal_mask(5)[None]
    keras = tf.keras.layers.MultiHeadAttention(2, 4)
    ours = attention.SelfAttention(2, 4)
    keras(x, x, attention_mask=mask), ours(x, x, attention_mask=mask)
    # Keras keeps [dim, heads, key_dim] kernels; ours are the same numbers flattened.
    ours.set_weights(
        [w.reshape(o.shape) for w, o in zip(keras.get_weights(), ours.get_weights(), strict=True)]
    )
    np.testing.assert_allclose(
        ours(x, x, attention_mask=mask).numpy(), keras(x, x, attention_mask=mask).numpy(), atol=1e-5
    )


def test_unknown_attention_is_refused_by_name():
    with pytest.raises(ValueError, match="keras, scratch"):
        attention.TransformerBlock(8, 2, 0.0, attention="linear")


def test_sinusoidal_codes_are_bounded_distinct_and_start_at_sin0_cos0():
    codes = attention.sinusoidal(50, 16)
    assert codes.shape == (50, 16) and np.abs(codes).max() <= 1.0
    np.testing.assert_allclose(codes[0], np.tile([0.0, 1.0], 8), atol=1e-7)
    assert len({tuple(np.round(row, 5)) for row in codes}) == 50


@pytest.mark.parametrize("learned", [True, False])
def test_position_embedding_adds_one_code_per_position(learned):
    layer = attention.PositionEmbedding(10, learned=learned)
    zeros = tf.zeros([2, 7, 4])
    out = layer(zeros).numpy()
    assert out.shape == (2, 7, 4)
    np.testing.assert_allclose(out[0], out[1])
    np.testing.assert_allclose(
        out[0], layer.codes.numpy()[:7] if learned else attention.sinusoidal(10, 4)[:7]
    )
    assert attention.PositionEmbedding.from_config(layer.get_config()).learned is learned


@pytest.mark.parametrize("kind", attention.ATTENTION)
def test_attention_maps_are_the_first_blocks_weights_with_its_mask(kind, tmp_path):
    from trainers.common import attention_maps

    ids = tf.keras.Input((5,))
    keep = tf.keras.Input((5,))
    tokens = tf.keras.layers.Dense(8)(tf.keras.layers.Reshape((5, 1))(ids))
    mask = tf.keras.layers.Lambda(attention.key_mask)(keep)
    out = attention.TransformerBlock(8, 2, 0.0, attention=kind, name="block0")(tokens, mask)
    model = tf.keras.Model([ids, keep], out)
    x = [tf.random.stateless_normal([3, 5], seed=[5, 6]), tf.constant([[1, 1, 1, 0, 0]] * 3)]
    maps = attention_maps.weights(model, model.get_layer("block0"), x)
    assert maps.shape == (2, 5, 5)
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    assert np.all(maps[:, :, 3:] == 0.0)  # padding gets no attention in the picture either
    data = tf.data.Dataset.from_tensors((tuple(x), tf.zeros([3])))
    assert attention_maps.log(model, data, str(tmp_path), 1)
    assert list((tmp_path / "validation").iterdir())


@pytest.mark.parametrize("kind", attention.ATTENTION)
def test_cross_attention_maps_read_only_the_real_source_tokens(kind, tmp_path):
    from trainers.common import attention_maps

    source, keep = tf.keras.Input((4,)), tf.keras.Input((4,))
    target = tf.keras.Input((3,))
    embed = lambda x, n: tf.keras.layers.Dense(8)(tf.keras.layers.Reshape((n, 1))(x))  # noqa: E731
    memory = embed(source, 4)
    mask = tf.keras.layers.Lambda(attention.key_mask)(keep)
    out = attention.DecoderBlock(8, 2, 0.0, attention=kind, name="decoder0")(
        embed(target, 3), memory, mask
    )
    model = tf.keras.Model([source, keep, target], out)
    x = [
        tf.random.stateless_normal([2, 4], seed=[1, 2]),
        tf.constant([[1, 1, 0, 0]] * 2),
        tf.random.stateless_normal([2, 3], seed=[3, 4]),
    ]
    maps = attention_maps.cross_weights(model, model.get_layer("decoder0"), x)
    assert maps.shape == (2, 3, 4)  # heads, output steps, source tokens
    np.testing.assert_allclose(maps.sum(-1), 1.0, rtol=1e-5)
    assert np.all(maps[:, :, 2:] == 0.0)
