"""Deep Q-learning for discrete-action gymnasium environments, independent of TFX.

`dqn.train(DQNParams(), log_dir)` returns the best Q-network found by periodic greedy
evaluation; `export.save_policy` turns it into a SavedModel whose `serving_default` maps
observations to actions. A TFX component (or a notebook) calls these; nothing here imports TFX.
Like all of kfx it uses Keras 2 (tf_keras): import `pipelines` first, which selects it.
"""
