"""CartPole-v1 with DQN: replay buffer, target network, ε-greedy decay, Huber loss, Double DQN."""
