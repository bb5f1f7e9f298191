import json

import tensorflow as tf

from trainers.common import distribute


def _tf_config(workers):
    return json.dumps(
        {
            "cluster": {"worker": [f"w{i}:2222" for i in range(workers)]},
            "task": {"type": "worker", "index": 0},
        }
    )


def test_choose_follows_the_environment():
    assert distribute.choose({}, gpus=0, tpus=0) == "default"
    assert distribute.choose({}, gpus=1, tpus=0) == "default"
    assert distribute.choose({}, gpus=4, tpus=0) == "mirrored"
    assert distribute.choose({"TF_CONFIG": _tf_config(1)}, gpus=0, tpus=0) == "default"
    assert distribute.choose({"TF_CONFIG": _tf_config(2)}, gpus=1, tpus=0) == "multi_worker"
    assert distribute.choose({"TPU_NAME": "local"}, gpus=0, tpus=0) == "tpu"
    assert distribute.choose({}, gpus=0, tpus=8) == "tpu"


def test_strategy_here_is_the_default_one():
    strategy = distribute.strategy()
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1
