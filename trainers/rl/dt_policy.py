"""Decision Transformer training windows, the return-conditioned policy and its SavedModel.

Training samples windows of K consecutive steps that end at a uniformly drawn step of an
episode (episodes drawn in proportion to their length), left-padded at the episode start —
the same shape the policy sees while playing, where the window ends at the current step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from trainers import manifest as manifest_lib
from trainers.common.keras_trainer import FitParams
from trainers.rl.dt_model import DTShape
from trainers.rl.trajectories import Trajectory

SIGNATURE = "serving_default"


@dataclasses.dataclass(frozen=True)
class DTParams(FitParams):
    """Decision Transformer hyper-parameters (defaults measured on CartPole-v1).

    The fit's fields (batch, learning rate and `lr_schedule`, `precision`, steps_per_epoch,
    patience, seed) are the `FitParams` every Keras trainer shares, with the DT's defaults.
    """

    batch_size: int = 64
    """Windows per gradient step."""
    learning_rate: float = 5e-4
    """AdamW's learning rate."""
    steps_per_epoch: int = 250
    """Gradient steps between validations."""
    patience: int = 4
    """Epochs without validation improvement before stopping (best weights kept)."""
    seed: int = 0
    """Seed of weights, dropout and window sampling."""
    env_id: str = "CartPole-v1"
    """Environment the trajectories come from and the policy plays."""
    context: int = 20
    """Steps per window K (the original paper's setting for its gym tasks)."""
    dim: int = 64
    """Token width."""
    layers: int = 2
    """Transformer blocks."""
    heads: int = 2
    """Attention heads per block."""
    dropout: float = 0.1
    """Dropout on tokens, attention and MLP outputs."""
    weight_decay: float = 1e-4
    """AdamW's decoupled weight decay."""
    rtg_scale: float = 100.0
    """Returns-to-go are divided by this before embedding (CartPole returns reach 500)."""
    target_return: float = 500.0
    """Return the policy is conditioned on when it plays (CartPole-v1's maximum)."""
    val_windows: int = 2048
    """Windows drawn once from the eval split for validation loss."""


def windows(
    trajectories: Sequence[Trajectory], count: int, shape: DTShape, rtg_scale: float, rng
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Draws `count` training windows.

    Returns:
        (model inputs, target actions int64 [count, K], mask float32 [count, K]).

    """
    k = shape.context
    lengths = np.array([len(t) for t in trajectories], dtype=np.float64)
    picks = rng.choice(len(trajectories), size=count, p=lengths / lengths.sum())
    out = _empty(count, shape)
    targets = np.zeros((count, k), np.int64)
    for row, index in enumerate(picks):
        t = trajectories[index]
        end = int(rng.integers(0, len(t))) + 1
        start = max(0, end - k)
        n = end - start
        out["returns_to_go"][row, k - n :, 0] = t.returns_to_go[start:end] / rtg_scale
        out["states"][row, k - n :] = t.states[start:end]
        out["actions"][row, k - n :] = t.actions[start:end]
        out["timesteps"][row, k - n :] = np.minimum(t.timesteps[start:end], shape.max_timestep)
        out["mask"][row, k - n :] = 1.0
        targets[row, k - n :] = t.actions[start:end]
    return out, targets, out["mask"].copy()


def _empty(count: int, shape: DTShape) -> dict:
    k = shape.context
    return {
        "returns_to_go": np.zeros((count, k, 1), np.float32),
        "states": np.zeros((count, k, shape.obs_dim), np.float32),
        "actions": np.full((count, k), shape.n_actions, np.int64),  # n_actions = unknown
        "timesteps": np.zeros((count, k), np.int64),
        "mask": np.zeros((count, k), np.float32),
    }


class DTPolicy:
    """Plays a Decision Transformer: an `envs.EpisodicPolicy` conditioned on a target return.

    Each episode starts with return-to-go = `target_return` and subtracts every reward it
    gets; the model sees the last K (return-to-go, state, action) steps, the current step's
    action unknown, and the policy takes the argmax of its logits at the current state.
    """

    def __init__(self, predict, shape: DTShape, rtg_scale: float, target_return: float):
        """`predict` maps a batch of model inputs (see `dt_model.build`) to [B, n] logits."""
        self.predict, self.shape = predict, shape
        self.rtg_scale, self.target_return = rtg_scale, target_return
        self.last_logits = np.zeros((0, shape.n_actions), np.float32)
        """Logits [len(ids), n_actions] of the latest `act` call."""
        self.reset(0)

    def reset(self, episodes: int) -> None:
        """Starts `episodes` fresh episodes."""
        self.history = [{"s": [], "a": [], "r": [self.target_return]} for _ in range(episodes)]

    def act(self, ids, observations) -> np.ndarray:
        """Greedy actions of episodes `ids` given their current observations."""
        k = self.shape.context
        batch = _empty(len(ids), self.shape)
        for row, (i, obs) in enumerate(zip(ids, observations, strict=True)):
            h = self.history[i]
            h["s"].append(np.asarray(obs, np.float32).reshape(-1))
            steps = len(h["s"])
            n = min(k, steps)
            start = steps - n
            batch["states"][row, k - n :] = h["s"][start:]
            batch["returns_to_go"][row, k - n :, 0] = np.array(h["r"][start:]) / self.rtg_scale
            batch["actions"][row, k - n : k - 1] = h["a"][start:]
            timesteps = np.arange(start, steps)
            batch["timesteps"][row, k - n :] = np.minimum(timesteps, self.shape.max_timestep)
            batch["mask"][row, k - n :] = 1.0
        self.last_logits = np.asarray(self.predict(batch))
        return self.last_logits.argmax(axis=-1)

    def record(self, ids, actions, rewards) -> None:
        """Appends the actions taken and lowers each episode's return-to-go by its reward."""
        for i, action, reward in zip(ids, actions, rewards, strict=True):
            h = self.history[i]
            h["a"].append(int(action))
            h["r"].append(h["r"][-1] - float(reward))


def save(model: tf.keras.Model, path: str, shape: DTShape, params: DTParams) -> None:
    """Exports a SavedModel (`serving_default`: inputs → last-step `logits` and `action`)."""
    k = shape.context
    spec = {
        "returns_to_go": tf.TensorSpec([None, k, 1], tf.float32, name="returns_to_go"),
        "states": tf.TensorSpec([None, k, shape.obs_dim], tf.float32, name="states"),
        "actions": tf.TensorSpec([None, k], tf.int64, name="actions"),
        "timesteps": tf.TensorSpec([None, k], tf.int64, name="timesteps"),
        "mask": tf.TensorSpec([None, k], tf.float32, name="mask"),
    }

    @tf.function(input_signature=list(spec.values()), autograph=False)
    def serve(returns_to_go, states, actions, timesteps, mask):
        inputs = dict(zip(spec, (returns_to_go, states, actions, timesteps, mask), strict=True))
        logits = model(inputs, training=False)[:, -1, :]
        return {"logits": logits, "action": tf.argmax(logits, axis=-1)}

    module = tf.Module()
    module.model = model
    module.dt_weights = list(model.weights)  # in `get_weights()` order, for warm starts
    module.serve = serve
    tf.saved_model.save(module, path, signatures={SIGNATURE: serve})
    manifest_lib.write(
        path,
        manifest_lib.Manifest(
            kind=manifest_lib.EPISODIC_POLICY,
            env_id=params.env_id,
            features={f"obs_{i}": "FLOAT" for i in range(shape.obs_dim)},
            actions=shape.n_actions,
            score="probability",
            model={
                "shape": dataclasses.asdict(shape),
                "rtg_scale": params.rtg_scale,
                "target_return": params.target_return,
            },
        ),
    )


def load_weights(path: str) -> list[np.ndarray]:
    """The model weights of a `save`d SavedModel, in `model.get_weights()` order."""
    return [variable.numpy() for variable in tf.saved_model.load(path).dt_weights]


def load(
    path: str, manifest: manifest_lib.Manifest, target_return: float | None = None
) -> DTPolicy:
    """The `DTPolicy` of a `save`d SavedModel (conditioned on the saved or given target)."""
    details = manifest.model
    loaded = tf.saved_model.load(path)
    serve = loaded.signatures[SIGNATURE]

    def predict(batch):
        tensors = {key: tf.convert_to_tensor(value) for key, value in batch.items()}
        return serve(**tensors)["logits"].numpy()

    policy = DTPolicy(
        predict,
        DTShape(**details["shape"]),
        details["rtg_scale"],
        details["target_return"] if target_return is None else target_return,
    )
    policy.saved_model = loaded  # keeps the variables alive as long as the policy
    return policy
