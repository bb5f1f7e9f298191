"""Placement profiles: which node pool each component runs on when compiled for Kubeflow.

Data components run on the CPU pool; Trainer and Tuner run where the profile puts them (the
CPU pool, a tainted GPU pool, or a TPU slice). The labels, taints and resource names match
infra/gke/node-pools.yaml.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from pipelines import ids

NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
GPU_LABEL = "cloud.google.com/gke-accelerator"
TPU_LABEL = "cloud.google.com/gke-tpu-accelerator"
TPU_TOPOLOGY_LABEL = "cloud.google.com/gke-tpu-topology"
GPU_RESOURCE, TPU_RESOURCE = "nvidia.com/gpu", "google.com/tpu"
CPU_POOL = "cpu-pool"
DEFAULT_GPU = "nvidia-tesla-t4"
# --tpu VERSION → GKE accelerator label; chips per host → 2-D topology (v5e slices).
TPU_ACCELERATORS = {"v5e": "tpu-v5-lite-podslice", "v5p": "tpu-v5p-slice", "v4": "tpu-v4-podslice"}
TPU_TOPOLOGIES = {1: "1x1", 4: "2x2", 8: "2x4"}


@dataclasses.dataclass(frozen=True)
class Toleration:
    """A Kubernetes toleration (operator Exists: any value of the taint key)."""

    key: str
    effect: str = "NoSchedule"
    operator: str = "Exists"


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where one component runs and what it may use."""

    cpu: float
    """CPU limit (cores)."""
    memory_gb: float
    """Memory limit in GB, as KFP's ResourceSpec.memory_limit takes it."""
    node_selector: Mapping[str, str]
    """Node labels the pod must match."""
    tolerations: tuple[Toleration, ...] = ()
    """Taints the pod tolerates."""
    accelerator: str | None = None
    """Kubernetes resource name of the accelerator (open-source KFP uses the type as such)."""
    accelerator_count: int = 0
    """How many accelerators the container requests."""


DATA = Placement(cpu=4.0, memory_gb=16.0, node_selector={NODEPOOL_LABEL: CPU_POOL})
LIGHT = Placement(cpu=1.0, memory_gb=4.0, node_selector={NODEPOOL_LABEL: CPU_POOL})
LIGHT_COMPONENTS = (
    ids.IMPORT_SCHEMA_GEN,
    ids.SCHEMA_GEN,
    ids.EXAMPLE_VALIDATOR,
    ids.DRIFT_CHECK,
    ids.ANOMALY_GATE,
    ids.MODEL_GATE,
    ids.SERVING_CHECK,
    ids.PUSHER,
    ids.REPORT,
    *ids.LOOKUPS,
)


def gpu(accelerator: str = DEFAULT_GPU, count: int = 1) -> Placement:
    """A training placement on the tainted GPU pool."""
    return Placement(
        cpu=7.0,  # an n1-standard-8 node leaves ~7.9 CPU / 26.5 GiB allocatable
        memory_gb=24.0,
        node_selector={GPU_LABEL: accelerator},
        tolerations=(Toleration(GPU_RESOURCE),),
        accelerator=GPU_RESOURCE,
        accelerator_count=count,
    )


def tpu(version: str = "v5e", chips: int = 4) -> Placement:
    """A training placement on a single-host TPU slice."""
    if version not in TPU_ACCELERATORS:
        raise ValueError(
            f"--tpu {version}:{chips}: version must be one of {sorted(TPU_ACCELERATORS)}"
        )
    if chips not in TPU_TOPOLOGIES:
        raise ValueError(f"--tpu {version}:{chips}: chips must be one of {sorted(TPU_TOPOLOGIES)}")
    return Placement(
        cpu=24.0,
        memory_gb=48.0,
        node_selector={
            TPU_LABEL: TPU_ACCELERATORS[version],
            TPU_TOPOLOGY_LABEL: TPU_TOPOLOGIES[chips],
        },
        tolerations=(Toleration(TPU_RESOURCE),),
        accelerator=TPU_RESOURCE,
        accelerator_count=chips,
    )


PROFILES: Mapping[str, Placement] = {
    # Fits one e2-standard-8 node of the CPU pool (~7.9 CPU / 28 GiB allocatable).
    "cpu": Placement(cpu=7.0, memory_gb=24.0, node_selector={NODEPOOL_LABEL: CPU_POOL}),
    "gpu": gpu(),
    "tpu": tpu(),
}


def parse_accelerator(text: str) -> Placement:
    """`--accelerator nvidia-tesla-t4:1` → a GPU training placement."""
    match = re.fullmatch(r"([a-z0-9-]+)(?::(\d+))?", text.strip())
    if not match:
        raise ValueError(f"--accelerator {text!r}: expected TYPE[:COUNT], e.g. nvidia-tesla-t4:1")
    count = int(match.group(2) or 1)
    if count < 1:
        raise ValueError(f"--accelerator {text!r}: COUNT must be at least 1")
    return gpu(match.group(1), count)


def parse_tpu(text: str) -> Placement:
    """`--tpu v5e:4` → a TPU training placement."""
    match = re.fullmatch(r"(v[0-9a-z]+)(?::(\d+))?", text.strip())
    if not match:
        raise ValueError(f"--tpu {text!r}: expected VERSION[:CHIPS], e.g. v5e:4")
    return tpu(match.group(1), int(match.group(2) or 4))


def for_component(
    component_id: str, training: Placement, training_nodes: tuple[str, ...]
) -> Placement:
    """The placement of one component given the task's training placement.

    `training_nodes` are the kind's training components (`Kind.training_nodes`).
    """
    if component_id in training_nodes:
        return training
    return LIGHT if component_id in LIGHT_COMPONENTS else DATA


def training_placement(
    profile: str, accelerator: str | None = None, tpu_spec: str | None = None
) -> Placement:
    """The task's profile, unless `--accelerator` or `--tpu` overrides it."""
    if accelerator and tpu_spec:
        raise ValueError("give --accelerator or --tpu, not both")
    if accelerator:
        return parse_accelerator(accelerator)
    if tpu_spec:
        return parse_tpu(tpu_spec)
    if profile not in PROFILES:
        raise ValueError(f"unknown placement profile {profile!r}; known: {sorted(PROFILES)}")
    return PROFILES[profile]
