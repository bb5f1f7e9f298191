"""The offline-RL kind: source model → TrajectoryGen → Trainer → PolicyEvaluator → Pusher.

Another task's newest pushed policy plays episodes with an exploration mix; TrajectoryGen
writes them as Examples, and the standard TFX Trainer fits a sequence model (a Decision
Transformer) on them. The PolicyEvaluator then plays the new policy in the environment and
its blessing gates the Pusher, as in the RL pipeline.
"""

from __future__ import annotations

from pipelines import ids, predict, wiring
from pipelines.errors import TaskError
from pipelines.kinds.rl import PolicyKind
from pipelines.options import RunOptions
from trainers import manifest
from trainers.contract import TrainerConfig
from trainers.spec import TaskSpec

# TrajectoryGen's defaults; a task changes them in `TaskSpec.rollouts`.
TRAJECTORIES = {"episodes": 300, "epsilons": "0,0.1,0.2,0.3,0.5"}


class OfflineRL(PolicyKind):
    """Tasks that learn a policy from another task's recorded episodes."""

    name = "offline_rl"
    training_nodes = (ids.TRAINER,)

    def trainer_config(self, spec: TaskSpec, opts: RunOptions) -> TrainerConfig:
        """The environment and the hyper-parameters (TFX's Trainer passes the steps)."""
        return TrainerConfig(
            problem=spec.problem, env_id=spec.env_id, hparams={**spec.hparams, **opts.hparams}
        )

    def predictor(self, model_dir, model_manifest):
        """The rows as one episode in order: the policy's action at each step."""
        if model_manifest.kind != manifest.EPISODIC_POLICY:
            raise TaskError(f"{model_dir}: a {model_manifest.kind} model, not an episodic policy")
        return predict.episode(model_dir, model_manifest)

    def create_pipeline(self, spec: TaskSpec, home, opts: RunOptions):
        """Builds the TFX pipeline of an offline-RL task (same object for local and Kubeflow)."""
        from tfx.components import Trainer
        from tfx.proto import trainer_pb2

        from components.trajectory_gen import TrajectoryGen

        rollouts = {**TRAJECTORIES, **spec.rollouts}
        source, source_model = wiring.source_model(spec, home, opts)
        # Plays the source policy with an exploration mix; episodes become Examples.
        trajectories = TrajectoryGen(
            model=source_model, env_id=str(spec.env_id), **rollouts
        ).with_id(ids.TRAJECTORY_GEN)
        components = [source, trajectories]
        trainer_inputs = wiring.warm_start_inputs(spec, home, opts, components)
        # Fits the sequence model on the episodes and exports the policy.
        trainer = Trainer(
            run_fn=f"{spec.model_module}.run_fn",
            examples=trajectories.outputs["examples"],
            train_args=trainer_pb2.TrainArgs(num_steps=opts.train_steps or spec.train_steps),
            eval_args=trainer_pb2.EvalArgs(),
            custom_config=self.trainer_config(spec, opts).to_custom_config(),
            **trainer_inputs,
        ).with_id(ids.TRAINER)
        components.append(trainer)
        components += self.evaluate_and_push(
            spec, home, opts, trainer, trajectories=trajectories.outputs["examples"]
        )
        return wiring.pipeline(spec, home, opts, components)


KIND = OfflineRL()
