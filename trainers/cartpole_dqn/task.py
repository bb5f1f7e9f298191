"""The cartpole_dqn task: DQN on CartPole-v1, gated at v1's "solved" return."""

from trainers.rl.declaration import cartpole_task

TASK = cartpole_task(
    "cartpole_dqn",
    "rl",
    "gymnasium CartPole-v1 (simulated)",
    475.0,
    reason="CartPole-v1's 'solved' return (a random policy: 23)",
    train_steps=50_000,
)
