"""CartPole-v1 with a Decision Transformer trained offline on a pushed DQN's trajectories."""
