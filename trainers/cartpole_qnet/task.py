"""The cartpole_qnet task: the course's online Q-learning on CartPole-v1."""

from trainers.rl.declaration import cartpole_task

TASK = cartpole_task(
    "cartpole_qnet",
    "rl",
    "gymnasium CartPole-v1 (simulated)",
    # Online Q-learning oscillates; its best checkpoint reached 242-500 over seeds
    # (BENCHMARKS.md), so the gate is CartPole-v0's "solved" level, not v1's 475.
    threshold=195.0,
    reason="CartPole-v0's 'solved' return: online Q-learning oscillates (a random policy: 23)",
    train_steps=100_000,
)
