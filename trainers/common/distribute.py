"""The tf.distribute strategy a trainer uses, picked from where it landed.

A TPU slice (TPU_NAME set, or a local TPU device) → TPUStrategy; TF_CONFIG naming several
workers → MultiWorkerMirroredStrategy; several GPUs → MirroredStrategy; otherwise the default
strategy (one CPU or GPU). Every Keras trainer builds its model inside `strategy().scope()`.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf


def choose(env: dict[str, str], gpus: int, tpus: int) -> str:
    """The strategy name for an environment: 'tpu', 'multi_worker', 'mirrored' or 'default'."""
    if env.get("TPU_NAME") or tpus:
        return "tpu"
    cluster = json.loads(env.get("TF_CONFIG") or "{}").get("cluster", {})
    if len(cluster.get("worker", [])) + len(cluster.get("chief", [])) > 1:
        return "multi_worker"
    return "mirrored" if gpus > 1 else "default"


def strategy() -> tf.distribute.Strategy:
    """The strategy for this process (see `choose`)."""
    name = choose(
        dict(os.environ),
        gpus=len(tf.config.list_physical_devices("GPU")),
        tpus=len(tf.config.list_physical_devices("TPU")),
    )
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(os.environ.get("TPU_NAME", ""))
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
