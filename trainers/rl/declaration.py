"""What every CartPole-v1 task shares: experience from the simulator, mean return as metric."""

from trainers.spec import ENVIRONMENT, TaskSpec

ENV_ID = "CartPole-v1"


def cartpole_task(name: str, kind: str, dataset: str, threshold: float, **fields) -> TaskSpec:
    """An RL (or offline-RL) task on CartPole-v1."""
    return TaskSpec(
        name=name,
        kind=kind,
        trainer=f"trainers.{name}",
        data=ENVIRONMENT,
        dataset=dataset,
        problem="control",
        metric="mean_return",
        threshold=threshold,
        env_id=ENV_ID,
        **fields,
    )
