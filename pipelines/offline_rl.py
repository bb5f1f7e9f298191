"""The offline-RL pipeline: source model → TrajectoryGen → Trainer → PolicyEvaluator → Pusher.

Another task's newest pushed policy plays episodes with an exploration mix; TrajectoryGen
writes them as Examples, and the standard TFX Trainer fits a sequence model (a Decision
Transformer) on them. The PolicyEvaluator then plays the new policy in the environment and
its blessing gates the Pusher, as in the RL pipeline.
"""

from __future__ import annotations

from pipelines import rl, wiring
from pipelines.home import Home
from pipelines.options import RunOptions
from pipelines.tasks import TaskSpec

# TrajectoryGen's defaults, a task can change them in custom_config["trajectories"]
TRAJECTORIES = {"episodes": 300, "epsilons": "0,0.1,0.2,0.3,0.5"}


def create_pipeline(spec: TaskSpec, home: Home, opts: RunOptions):
    """Builds the TFX pipeline of an offline-RL task (same object for local and Kubeflow)."""
    from tfx.components import Trainer
    from tfx.proto import trainer_pb2

    from components.trajectory_gen import TrajectoryGen

    env_id = str(spec.custom_config["env_id"])
    rollouts = {**TRAJECTORIES, **spec.custom_config.get("trajectories", {})}
    source, source_model = wiring.source_model(spec, opts)
    trajectories = TrajectoryGen(model=source_model, env_id=env_id, **rollouts)
    components = [source, trajectories]
    trainer_inputs = wiring.warm_start_inputs(opts, components)
    trainer = Trainer(
        run_fn=f"{spec.trainer}.model.run_fn",
        examples=trajectories.outputs["examples"],
        train_args=trainer_pb2.TrainArgs(num_steps=opts.train_steps or spec.train_steps),
        eval_args=trainer_pb2.EvalArgs(),
        custom_config={"env_id": env_id, "hparams": dict(opts.hparams)},
        **trainer_inputs,
    )
    components.append(trainer)
    components += rl.evaluate_and_push(spec, home, opts, trainer, env_id)
    return wiring.pipeline(spec, home, opts, components)
