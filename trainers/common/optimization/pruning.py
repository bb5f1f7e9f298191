"""tfmot magnitude pruning, fine-tuned on the transformed training examples.

tfmot prunes Functional and Sequential models; layers it cannot prune (custom ones such as
`FeatureVector`) stay as they are, and a subclassed model is not pruned at all.
"""

from __future__ import annotations

from trainers.common.optimization.params import OptimizeParams


def is_graph_model(model) -> bool:
    """True for Functional and Sequential models (tfmot prunes those), False for subclassed."""
    import tensorflow as tf

    return isinstance(model, tf.keras.Sequential) or bool(getattr(model, "_is_graph_network", 0))


def keras_core(model):
    """The Functional model of a loaded SavedModel, without extra tracked layers.

    `signatures.export` attaches the Transform layer as `model.tft_layer`; rebuilding from
    inputs/outputs leaves it (and any other non-graph attribute) out, so the model clones.
    A subclassed model has no graph to rebuild and is returned as it is.
    """
    import tensorflow as tf

    if not is_graph_model(model):
        return model
    return tf.keras.Model(model.inputs, model.outputs, name=model.name)


def loss_for(problem: str):
    """The trainers' loss (models output class probabilities, or values)."""
    import tensorflow as tf

    if problem == "classification":
        return tf.keras.losses.SparseCategoricalCrossentropy()
    return tf.keras.losses.MeanSquaredError()


def _policy():
    """A tfmot pruning policy that wraps what tfmot supports and leaves the rest as is."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import (
        PruneRegistry,
    )

    class SupportedLayers(tfmot.sparsity.keras.PruningPolicy):
        """Custom layers (FeatureVector, Denormalize, ...) stay unwrapped, not an error."""

        def allow_pruning(self, layer):
            return isinstance(layer, tfmot.sparsity.keras.PrunableLayer) or PruneRegistry.supports(
                layer
            )

        def ensure_model_supports_pruning(self, model):
            return None

    return SupportedLayers()


def prune(model, train, problem: str, params: OptimizeParams):
    """Magnitude-prunes `model` while fine-tuning on `train`.

    Sparsity ramps polynomially from 0 to `params.target_sparsity` over the first 70% of
    `params.prune_steps`, then holds while the remaining weights recover. Layers of `model`
    are reused (and changed) by the result.

    Args:
        model: a Functional or Sequential Keras model (see `is_graph_model`).
        train: (inputs by name, label) batches, repeated (see `data.transformed_dataset`).
        problem: 'classification' or 'regression', for the loss.
        params: the schedule's target and length, the batch's learning rate and the seed.

    Returns:
        The stripped model and how many of its layers were pruned.
    """
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot

    tf.keras.utils.set_random_seed(params.seed)
    steps = max(1, params.prune_steps)
    end = max(1, int(steps * 0.7))
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=params.target_sparsity,
        begin_step=0,
        end_step=end,
        frequency=max(1, end // 10),
    )
    pruned = tfmot.sparsity.keras.prune_low_magnitude(
        model, pruning_schedule=schedule, pruning_policy=_policy()
    )
    pruned.compile(optimizer=tf.keras.optimizers.Adam(params.learning_rate), loss=loss_for(problem))
    pruned.fit(
        train,
        steps_per_epoch=steps,
        epochs=1,
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
        verbose=0,
    )
    return tfmot.sparsity.keras.strip_pruning(pruned), _wrapped(pruned)


def _wrapped(model) -> int:
    """Layers of `model` (nested models included) with weights under a pruning wrapper."""
    from tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper import (
        PruneLowMagnitude,
    )

    count = 0
    for layer in model.layers:
        if isinstance(layer, PruneLowMagnitude):
            count += bool(layer.prunable_weights)  # BatchNorm, Dropout... are wrapped, not pruned
        elif hasattr(layer, "layers"):
            count += _wrapped(layer)
    return count
