"""The cartpole_dt task: a Decision Transformer on episodes of the pushed cartpole_dqn."""

from trainers.rl.declaration import cartpole_task

TASK = cartpole_task(
    "cartpole_dt",
    "offline_rl",
    "episodes of the pushed cartpole_dqn policy (TrajectoryGen)",
    threshold=475.0,
    reason="0.95 of its data policy's greedy return (500 in make bench)",
    train_steps=1000,
    source_task="cartpole_dqn",
)
