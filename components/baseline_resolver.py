"""Which model a run compares with (or starts from): models the kfx gate blessed.

Only blessings a gate wrote count (components/gate.py marks them): TFX's Evaluator also
writes a ModelBlessing from its own thresholds, which knows nothing of the naive predictor.

The baseline is the latest gated model blessed *before* the candidate was trained.

TFX's LatestBlessedModelStrategy returns the newest blessed model. When Trainer is served from
cache, that is the candidate itself, so a repeated run would re-evaluate and re-push the same
model. Taking the newest blessed model older than the newest Model gives the same baseline as
the run that first trained the candidate: the Evaluator and Pusher hit the cache too, and a
genuinely new model is still compared with the last good one.
"""

from __future__ import annotations

from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts

from components.gate import GATED

_BLESSED = "blessed"
_MODEL_ID = "current_model_id"


def _channels(input_dict) -> tuple[str | None, str | None]:
    """The keys of the Model and the ModelBlessing channels of `input_dict`."""
    models = blessings = None
    for key, artifacts in input_dict.items():
        if artifacts and isinstance(artifacts[0], standard_artifacts.Model):
            models = key
        elif artifacts and isinstance(artifacts[0], standard_artifacts.ModelBlessing):
            blessings = key
    return models, blessings


def gate_blessed(blessings) -> dict[int, object]:
    """{model id: its blessing} of the models whose latest gate decision blessed them.

    A model gets several gated blessings in one run (the ModelGate's, then the
    ServingCheck's, which may refuse it); the newest one is the decision the Pusher read.
    """
    latest = {}
    for b in sorted(blessings, key=lambda b: b.id):
        if b.get_int_custom_property(GATED) == 1:
            latest[b.get_int_custom_property(_MODEL_ID)] = b
    return {model: b for model, b in latest.items() if b.get_int_custom_property(_BLESSED) == 1}


def _pick(input_dict, keep) -> dict:
    """{model: [newest blessed model kept by `keep(model id, newest id)`], blessing: [its]}."""
    models, blessings = _channels(input_dict)
    result = {key: [] for key in input_dict}
    if models is None or blessings is None:
        return result
    newest = max(a.id for a in input_dict[models])
    blessed = gate_blessed(input_dict[blessings])
    chosen = sorted(
        (m for m in input_dict[models] if m.id in blessed and keep(m.id, newest)),
        key=lambda m: m.id,
    )
    if chosen:
        result[models] = [chosen[-1]]
        result[blessings] = [blessed[chosen[-1].id]]
    return result


class BaselineModelStrategy(resolver.ResolverStrategy):
    """Resolves {model, model_blessing} to the baseline of the newest model (maybe empty)."""

    def resolve_artifacts(self, store, input_dict):
        """The newest gate-blessed model older than the newest model (the candidate)."""
        return _pick(input_dict, lambda model, newest: model < newest)


class LatestGatedModelStrategy(resolver.ResolverStrategy):
    """Resolves {model, model_blessing} to the newest gate-blessed model (warm start)."""

    def resolve_artifacts(self, store, input_dict):
        """The newest model a gate blessed (maybe empty)."""
        return _pick(input_dict, lambda model, newest: True)
