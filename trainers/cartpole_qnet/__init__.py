"""The cartpole_qnet task: online Q-learning with a Q-network on CartPole-v1."""
