"""Baseline for the Evaluator: the latest model blessed *before* the candidate was trained.

TFX's LatestBlessedModelStrategy returns the newest blessed model. When Trainer is served from
cache, that is the candidate itself, so a repeated run would re-evaluate and re-push the same
model. Taking the newest blessed model older than the newest Model gives the same baseline as
the run that first trained the candidate: the Evaluator and Pusher hit the cache too, and a
genuinely new model is still compared with the last good one.
"""

from __future__ import annotations

from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts

_BLESSED = "blessed"
_MODEL_ID = "current_model_id"


class BaselineModelStrategy(resolver.ResolverStrategy):
    """Resolves {model, model_blessing} to the baseline of the newest model (maybe empty)."""

    def resolve_artifacts(self, store, input_dict):
        """Picks the baseline among all Models and ModelBlessings of the pipeline."""
        models = blessings = None
        for key, artifacts in input_dict.items():
            if artifacts and isinstance(artifacts[0], standard_artifacts.Model):
                models = key
            elif artifacts and isinstance(artifacts[0], standard_artifacts.ModelBlessing):
                blessings = key
        result = {key: [] for key in input_dict}
        if models is None or blessings is None:
            return result
        candidate = max(a.id for a in input_dict[models])
        blessed = {
            b.get_int_custom_property(_MODEL_ID): b
            for b in input_dict[blessings]
            if b.get_int_custom_property(_BLESSED) == 1
        }
        older = sorted(
            (m for m in input_dict[models] if m.id < candidate and m.id in blessed),
            key=lambda m: m.id,
        )
        if older:
            result[models] = [older[-1]]
            result[blessings] = [blessed[older[-1].id]]
        return result
