"""The reinforcement-learning pipeline: RLTrainer → baseline Resolver → PolicyEvaluator → Pusher.

TFX's Trainer needs Examples, so RL tasks train in a custom component against a gymnasium
environment; the PolicyEvaluator's blessing gates the standard Pusher exactly like the
supervised Evaluator's.
"""

from __future__ import annotations

import json

from pipelines import wiring
from pipelines.home import Home
from pipelines.options import RunOptions
from pipelines.tasks import TaskSpec

DEFAULT_EVAL_EPISODES = 100  # the gate: mean return over 100 greedy episodes


def create_pipeline(spec: TaskSpec, home: Home, opts: RunOptions):
    """Builds the TFX pipeline of an RL task (same object for local and Kubeflow)."""
    from components.rl_trainer import RLTrainer

    config = {**spec.custom_config, **opts.hparams}
    if opts.train_steps:
        config["total_timesteps"] = opts.train_steps
    components = []
    trainer_inputs = wiring.warm_start_inputs(opts, components)
    trainer = RLTrainer(
        trainer_module=f"{spec.trainer}.model",
        config=json.dumps(config, sort_keys=True),
        **trainer_inputs,
    )
    components.append(trainer)
    components += evaluate_and_push(spec, home, opts, trainer, str(config["env_id"]))
    return wiring.pipeline(spec, home, opts, components)


def evaluate_and_push(spec: TaskSpec, home: Home, opts: RunOptions, trainer, env_id: str):
    """Baseline Resolver → PolicyEvaluator → Pusher for the policy in `trainer`'s `model`."""
    from components.policy_evaluator import PolicyEvaluator

    baseline = wiring.baseline_resolver(opts, trainer)
    evaluator = PolicyEvaluator(
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        env_id=env_id,
        threshold=float(spec.threshold),
        episodes=int(opts.eval_episodes or DEFAULT_EVAL_EPISODES),
    )
    pusher = wiring.pusher(spec, home, trainer.outputs["model"], evaluator.outputs["blessing"])
    return [baseline, evaluator, pusher]
