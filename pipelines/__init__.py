"""kfx orchestration: tasks, pipelines, runners and the `kfx` CLI.

This is the one place where the Keras flavour is chosen: TFX 1.16 supports Keras 2 only, and
TF 2.16 defaults to Keras 3, so `tf.keras` must resolve to tf_keras. The variable has to be set
before TensorFlow is first imported; every entry point (CLI, tests, in-process components)
imports this package first. Containers set it in infra/Dockerfile.
"""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
