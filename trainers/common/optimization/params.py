"""How the optimizer prunes, fine-tunes and calibrates."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class OptimizeParams:
    """How the optimizer prunes, fine-tunes and calibrates (`--set optimize.KEY=VALUE`)."""

    target_sparsity: float = 0.5
    """Fraction of each prunable kernel set to zero by the end of fine-tuning."""
    prune_steps: int = 1000
    """Fine-tuning steps under the pruning schedule (sparsity ramps up over the first 70%).

    Long enough for the remaining weights to take over between two pruning steps (TF-MOT's
    guide prunes over epochs); 200 steps lost 1.8 points of cnn_vgg's accuracy."""
    batch_size: int = 32
    """Examples per fine-tuning batch."""
    learning_rate: float = 1e-4
    """Adam's learning rate while fine-tuning: the model arrives converged (its own schedule
    ended low), and a fresh Adam at 1e-3 moves it out of that minimum."""
    calibration_examples: int = 256
    """Training examples the int8 converter calibrates activation ranges on."""
    seed: int = 42
    """Seed of shuffling and fine-tuning."""
