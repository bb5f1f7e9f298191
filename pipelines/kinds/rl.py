"""The RL kind: RLTrainer → baseline Resolver → PolicyEvaluator → Pusher.

TFX's Trainer needs Examples, so RL tasks train in a custom component against a gymnasium
environment; the PolicyEvaluator's blessing gates the standard Pusher exactly like the
supervised Evaluator's.
"""

from __future__ import annotations

import dataclasses

from pipelines import ids, predict, tasks, wiring
from pipelines.errors import TaskError
from pipelines.kinds.base import Kind
from pipelines.options import RunOptions
from trainers import manifest
from trainers.contract import TrainerConfig
from trainers.spec import TaskSpec

DEFAULT_EVAL_EPISODES = 100  # the gate: mean return over 100 greedy episodes


class PolicyKind(Kind):
    """What the kinds whose models are policies share: evaluation in the environment."""

    evaluation_node = ids.POLICY_EVALUATOR
    reads_data = False
    supports_eval_episodes = True

    def evaluate_and_push(
        self, spec: TaskSpec, home, opts: RunOptions, trainer, **report_inputs
    ) -> list:
        """Baseline Resolver → PolicyEvaluator → Pusher → Report for `trainer`'s policy.

        `report_inputs`: further channels of the Report (an offline task's trajectories).
        """
        from components.policy_evaluator import PolicyEvaluator

        baseline = wiring.baseline(spec, home, opts, trainer)
        # Candidate, baseline and a random policy play the same seeded episodes; the gate.
        evaluator = PolicyEvaluator(
            model=trainer.outputs["model"],
            baseline_model=baseline.outputs["model"],
            env_id=str(spec.env_id),
            threshold=float(spec.threshold),
            margin=spec.scored[0].naive_margin,
            episodes=int(opts.eval_episodes or DEFAULT_EVAL_EPISODES),
        ).with_id(ids.POLICY_EVALUATOR)
        pusher = wiring.pusher(spec, home, trainer.outputs["model"], evaluator.outputs["blessing"])
        # The run's page: episode returns, curves and the gate's decision.
        report = wiring.report(
            spec,
            pusher,
            evaluation=evaluator.outputs["evaluation"],
            model_run=trainer.outputs["model_run"],
            blessing=evaluator.outputs["blessing"],
            **report_inputs,
        )
        return [baseline, evaluator, pusher, report]


class RL(PolicyKind):
    """Tasks that learn a policy by acting in a simulator (RLTrainer)."""

    name = "rl"
    training_nodes = (ids.RL_TRAINER,)
    supports_env = True

    def trainer_config(self, spec: TaskSpec, opts: RunOptions) -> TrainerConfig:
        """The environment, the step budget and the hyper-parameters."""
        return TrainerConfig(
            problem=spec.problem,
            env_id=spec.env_id,
            train_steps=opts.train_steps or spec.train_steps,
            hparams={**spec.hparams, **opts.hparams},
        )

    def predictor(self, model_dir, model_manifest):
        """Each row's observation → the policy's action and its score."""
        if model_manifest.kind != manifest.POLICY:
            raise TaskError(f"{model_dir}: a {model_manifest.kind} model, not a policy")
        return predict.policy(model_dir, model_manifest)

    def create_pipeline(self, spec: TaskSpec, home, opts: RunOptions):
        """Builds the TFX pipeline of an RL task (same object for local and Kubeflow)."""
        from components.rl_trainer import RLTrainer

        components = []
        trainer_inputs = wiring.warm_start_inputs(spec, home, opts, components)
        # Trains the task's policy in its environment and exports it.
        trainer = RLTrainer(
            trainer_module=spec.model_module,
            config=self.trainer_config(spec, opts).to_json(),
            **trainer_inputs,
        ).with_id(ids.RL_TRAINER)
        components.append(trainer)
        components += self.evaluate_and_push(spec, home, opts, trainer)
        return wiring.pipeline(spec, home, opts, components)

    def for_env(self, home, spec: TaskSpec, env_id: str, threshold: float | None) -> TaskSpec:
        """The task on another gymnasium env, registered in the home as `TASK-ENV`.

        A separate task (e.g. `cartpole_dqn-acrobot-v1`) keeps its models from ever meeting
        the original env's as baselines. The gate defaults to the env's own
        `reward_threshold` (Acrobot-v1: -100).
        """
        import gymnasium

        if env_id == spec.env_id:
            return spec.with_threshold(threshold)
        try:
            env_spec = gymnasium.spec(env_id)
        except gymnasium.error.Error as err:
            raise TaskError(f"--env {env_id}: {err}; see gymnasium.envs.registry") from None
        gate = threshold if threshold is not None else env_spec.reward_threshold
        if gate is None:
            raise TaskError(f"--env {env_id} has no reward_threshold; give one with --threshold")
        derived = dataclasses.replace(
            spec,
            name=f"{spec.name}-{env_id.lower().replace('/', '-').replace('_', '-')}",
            dataset=f"gymnasium {env_id} (simulated)",
            threshold=float(gate),
            env_id=env_id,
            hparams={**spec.hparams, "target_return": float(gate)},
        )
        return tasks.save(home, derived)


KIND = RL()
