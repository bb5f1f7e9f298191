"""What value-based learners share inside their compiled update: TD targets, loss, clipped step."""

from __future__ import annotations

import tensorflow as tf


def td_targets(rewards, dones, gamma: float, next_q_target, next_q_online=None) -> tf.Tensor:
    """One-step TD targets `r + γ (1 - done) Q'(s', a*)`.

    Args:
        rewards: Rewards [batch].
        dones: 1.0 where the episode terminated (truncation is not a `done`) [batch].
        gamma: Discount factor.
        next_q_target: Target network's Q-values of the next observations [batch, actions].
        next_q_online: Online network's Q-values of the next observations, for Double DQN
            (a* = its argmax); None for vanilla DQN (a* = the target network's argmax).

    Returns:
        float32 targets [batch].

    """
    next_q_target = tf.convert_to_tensor(next_q_target, tf.float32)
    if next_q_online is None:
        next_value = tf.reduce_max(next_q_target, axis=1)
    else:
        best = tf.argmax(next_q_online, axis=1, output_type=tf.int32)
        next_value = tf.gather(next_q_target, best, axis=1, batch_dims=1)
    rewards = tf.cast(rewards, tf.float32)
    return rewards + gamma * (1.0 - tf.cast(dones, tf.float32)) * next_value


def td_loss(q, target, huber: bool) -> tf.Tensor:
    """Mean TD loss of the taken actions' Q-values `q` against `target` (no gradient to it).

    Args:
        q: Q-values of the actions taken [batch].
        target: TD targets [batch]; treated as constants.
        huber: Huber (smooth L1, δ = 1) loss; False for the squared error.

    Returns:
        The scalar mean loss.

    """
    error = tf.stop_gradient(target) - q
    if huber:
        abs_error = tf.abs(error)
        return tf.reduce_mean(tf.where(abs_error < 1.0, 0.5 * error**2, abs_error - 0.5))
    return tf.reduce_mean(error**2)


def clipped_step(tape: tf.GradientTape, loss, variables, optimizer, max_grad_norm: float) -> None:
    """Applies one optimizer step of `loss`'s gradients, clipped to a global norm.

    Args:
        tape: The tape that recorded `loss`.
        loss: Scalar loss.
        variables: Variables to update.
        optimizer: A Keras optimizer.
        max_grad_norm: Gradients are rescaled to at most this global norm; 0 disables it.

    """
    grads = tape.gradient(loss, variables)
    if max_grad_norm > 0:
        grads, _ = tf.clip_by_global_norm(grads, max_grad_norm)
    optimizer.apply_gradients(zip(grads, variables, strict=True))
