"""Deep Q-learning for discrete-action gymnasium environments, independent of TFX.

`dqn.train(DQNParams(), log_dir)` returns the best Q-network found by periodic greedy
evaluation; `export.save_policy` turns it into a SavedModel whose `serving_default` maps
observations to actions. A TFX component (or a notebook) calls these; nothing here imports TFX.

TensorFlow is used with Keras 2 (tf_keras), like the rest of kfx. Importing this package sets
`TF_USE_LEGACY_KERAS=1` unless it is already set; that only takes effect when TensorFlow has
not been imported yet (entry points import `pipelines` first, which sets it too).
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
