"""Shared trainer code: inputs, transforms, layers, callbacks, signatures, the Keras loop.

Importing it also keeps AutoGraph out of library internals. TensorFlow's AutoGraph skips the
`keras` package but not `tf_keras` (Keras 2 under its new name), so every first `fit` spent
~13 s transpiling Keras' own training loop; the libraries below are already graph-safe.
"""

try:
    from tensorflow.python.autograph.core import config as _autograph_config
except ImportError:  # pragma: no cover (a TensorFlow without this private module)
    _autograph_config = None

if _autograph_config is not None:
    _SKIP = (
        "tf_keras",
        "tensorflow_transform",
        "tensorflow_model_analysis",
        "tfx_bsl",
        "keras_tuner",
    )
    _known = {getattr(rule, "_prefix", None) for rule in _autograph_config.CONVERSION_RULES}
    _autograph_config.CONVERSION_RULES = tuple(
        _autograph_config.DoNotConvert(name) for name in _SKIP if name not in _known
    ) + tuple(_autograph_config.CONVERSION_RULES)
