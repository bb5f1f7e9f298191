import dataclasses

import pytest

from trainers.common import hparams
from trainers.penguin.model import HParams


@dataclasses.dataclass(frozen=True)
class Flags:
    shuffle: bool = False
    steps: int = 1
    rate: float = 0.5
    name: str = "x"


def test_override_converts_strings():
    hp = hparams.override(HParams(), {"units": "8", "learning_rate": "0.003", "name": "m"})
    assert hp.units == 8
    assert isinstance(hp.units, int)
    assert hp.learning_rate == 0.003
    assert hp.name == "m"
    assert hp.layers == HParams().layers


def test_override_float_from_int_string():
    assert hparams.override(HParams(), {"dropout": "0"}).dropout == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("True", True), ("1", True), ("false", False), ("0", False)],
)
def test_override_bool(text, expected):
    assert hparams.override(Flags(shuffle=not expected), {"shuffle": text}).shuffle is expected


def test_override_keeps_original():
    original = HParams()
    hparams.override(original, {"units": "64"})
    assert original.units == 16


@pytest.mark.parametrize("values", [None, {}])
def test_override_nothing(values):
    hp = HParams()
    assert hparams.override(hp, values) is hp


def test_override_unknown_key_names_known():
    with pytest.raises(ValueError, match="unknown hyper-parameter 'colour'") as err:
        hparams.override(Flags(), {"colour": "red"})
    assert "known: name, rate, shuffle, steps" in str(err.value)


@pytest.mark.parametrize(
    ("key", "value"), [("steps", "abc"), ("steps", "2.5"), ("rate", "fast"), ("shuffle", "yes")]
)
def test_override_bad_value(key, value):
    with pytest.raises(ValueError, match=f"hyper-parameter {key}='{value}' is not a"):
        hparams.override(Flags(), {key: value})


def test_override_non_string_values():
    hp = hparams.override(Flags(), {"steps": 3, "rate": 1, "shuffle": True})
    assert (hp.steps, hp.rate, hp.shuffle) == (3, 1.0, True)
    assert isinstance(hp.rate, float)
