"""Keras to TFLite: dynamic-range quantisation, or full int8 with calibration data."""

from __future__ import annotations

from collections.abc import Callable

from trainers.common.optimization.pruning import is_graph_model

# TFLite's int8 ONE_HOT copies the on/off values' int8 codes without rescaling them to its
# output's scale: one-hot features came out ×2.5 and a tabular model lost 6 points. Kept float.
FLOAT_OPS = ("ONE_HOT",)


def to_tflite(model, representative: Callable | None = None) -> bytes:
    """TFLite flatbuffer of a Keras model, quantised.

    Without `representative`: dynamic-range quantisation (int8 weights, float activations).
    With it: full integer quantisation of weights and activations, calibrated on the
    representative examples; ops without a correct int8 kernel (`FLOAT_OPS`, and any op the
    converter cannot quantise) run in float. Inputs and outputs stay float (ids int64), so
    callers feed the same transformed features as to the SavedModel.

    Args:
        model: a Keras model; a subclassed one must take a dict of features.
        representative: calibration data (see `data.representative_dataset`), or None.

    Returns:
        The TFLite flatbuffer.
    """
    import tensorflow as tf

    converter = _converter(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if representative is None:
        return converter.convert()
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
        tf.lite.OpsSet.TFLITE_BUILTINS,
    ]
    # The debugger is TFLite's way to keep chosen ops out of quantisation.
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter,
        debug_dataset=representative,
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(FLOAT_OPS)),
    )
    return debugger.get_nondebug_quantized_model()


def _converter(model):
    """A TFLite converter whose signature inputs are named like the model's inputs.

    A subclassed model called with a dict would come out with one input `args_0`; converting a
    function of a dict of named specs keeps the feature names.
    """
    import tensorflow as tf

    if is_graph_model(model):
        return tf.lite.TFLiteConverter.from_keras_model(model)
    saved = model._get_save_spec()  # the inputs the model was called with when saved
    if not isinstance(saved, dict):
        raise ValueError(f"model {model.name!r}: a subclassed model must take a dict of features")
    spec = {k: tf.TensorSpec(s.shape, s.dtype, name=k) for k, s in saved.items()}
    serve = tf.function(lambda inputs: model(inputs, training=False), input_signature=[spec])
    return tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], model)


def float_ops(blob: bytes) -> list[str]:
    """Ops of a TFLite model that compute float32 outputs (DEQUANTIZE excluded)."""
    import numpy as np
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=blob)
    dtypes = {t["index"]: t["dtype"] for t in interpreter.get_tensor_details()}
    found = set()
    for op in interpreter._get_ops_details():  # the public API lists tensors, not ops
        outputs = [dtypes.get(i) for i in op["outputs"]]
        if op["op_name"] != "DEQUANTIZE" and np.float32 in outputs:
            found.add(op["op_name"])
    return sorted(found)
