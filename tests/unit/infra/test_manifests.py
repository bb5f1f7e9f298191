"""Static checks of infra/: every YAML parses, every object is schema-valid, and the node pools,
the TensorBoard manifests, the Dockerfile and pipelines/placement.py agree with each other.

No cluster is reachable from the development machines, so this is the whole validation of the
manifests: core Kubernetes objects go through the `kubernetes` client's models (which reject
missing required fields; the round trip must also keep every field, so a misspelt key that the
models silently drop fails), Config Connector node pools through an explicit JSON schema, and
then the placement contract is checked field by field. The last tests feed broken copies to the
same validators and expect them to fail.
"""

from __future__ import annotations

import copy
import re
import shlex
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.utils import parse_quantity

from pipelines import kubeflow, placement

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"

# The placement contract (also in infra/gke/README.md and pipelines/placement.py).
NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
GPU_LABEL = "cloud.google.com/gke-accelerator"
TPU_LABEL = "cloud.google.com/gke-tpu-accelerator"
TPU_TOPOLOGY_LABEL = "cloud.google.com/gke-tpu-topology"
CPU_POOL, GPU_POOL, TPU_POOL = "cpu-pool", "gpu-pool", "tpu-pool"
GPU_TYPE = "nvidia-tesla-t4"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
TPU_TOLERATION = {"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"}
TPU_SELECTOR = {TPU_LABEL: "tpu-v5-lite-podslice", TPU_TOPOLOGY_LABEL: "2x2"}
TPU_CHIPS = 4
EXPECTED_POOLS = {
    CPU_POOL: {"machine": "e2-standard-8", "min": 1, "max": 4},
    GPU_POOL: {"machine": "n1-standard-8", "min": 0, "max": 2},
    TPU_POOL: {"machine": "ct5lp-hightpu-4t", "min": 0, "max": 1},
}
CLUSTER = "kfx-cluster"

TENSORBOARD = "kfx-tensorboard"
NAMESPACE = "kubeflow"
LOGDIR_DEFAULT = "gs://kfx-pipelines/pipelines"
TENSORBOARD_IMAGE = "tensorflow/tensorflow:2.16.2"
TENSORBOARD_COMMAND = [
    "tensorboard",
    "--logdir",
    "$(LOGDIR)",
    "--host",
    "0.0.0.0",
    "--port",
    "6006",
]
GSA_EMAIL = re.compile(
    r"^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]"
    r"\.iam\.gserviceaccount\.com$"
)
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

# Kubernetes taint effects as the GKE API (and so Config Connector) spells them.
GKE_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
    "NO_EXECUTE": "NoExecute",
}
# TPU machine-type prefix → the cloud.google.com/gke-tpu-accelerator value GKE sets.
TPU_MACHINES = {
    "ct5lp-": "tpu-v5-lite-podslice",
    "ct5p-": "tpu-v5p-slice",
    "ct4p-": "tpu-v4-podslice",
}
# vCPUs and memory (GiB) of the machine types the pools use.
MACHINES = {
    "e2-standard-8": (8, 32.0),
    "n1-standard-8": (8, 30.0),
    "ct5lp-hightpu-4t": (112, 192.0),
}

CORE_MODELS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Service"): "V1Service",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("apps/v1", "Deployment"): "V1Deployment",
}
CNRM_NODE_POOL = ("container.cnrm.cloud.google.com/v1beta1", "ContainerNodePool")


class ManifestError(Exception):
    """A manifest breaks the contract."""


def _check(condition: object, message: str) -> None:
    if not condition:
        raise ManifestError(message)


# --- loading ----------------------------------------------------------------------------------


def load_infra(infra_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every YAML file under infra_dir → its non-empty documents (yaml.safe_load_all)."""
    files = sorted(p for p in infra_dir.rglob("*") if p.suffix in (".yaml", ".yml"))
    loaded = {}
    for path in files:
        with path.open() as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        loaded[path.relative_to(infra_dir).as_posix()] = docs
    return loaded


def objects(loaded: Mapping[str, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    for docs in loaded.values():
        yield from docs


def find(loaded, kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        o
        for o in objects(loaded)
        if o.get("kind") == kind and (name is None or o.get("metadata", {}).get("name") == name)
    ]


def one(loaded, kind: str, name: str) -> dict[str, Any]:
    found = find(loaded, kind, name)
    _check(len(found) == 1, f"expected exactly one {kind} {name!r}, found {len(found)}")
    return found[0]


# --- core Kubernetes objects: the kubernetes client's models ----------------------------------


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def validate_core(api: k8s.ApiClient, obj: dict[str, Any]) -> Any:
    """Deserializes obj into its V1 model (raises ValueError on a missing required field) and
    requires the round trip to reproduce obj exactly (unknown or misspelt keys are dropped by
    the models, so they fail here)."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    _check(key in CORE_MODELS, f"no model for {key}")
    model = api._ApiClient__deserialize(copy.deepcopy(obj), CORE_MODELS[key])
    back = api.sanitize_for_serialization(model)
    _check(
        back == _drop_none(obj),
        f"{key[1]} {obj['metadata'].get('name')}: the round trip "
        f"through {CORE_MODELS[key]} changed it:\n{back}\n!=\n{obj}",
    )
    name = obj["metadata"].get("name", "")
    _check(DNS1123.match(name) and len(name) <= 63, f"bad object name {name!r}")
    return model


# --- Config Connector node pools: explicit schema ---------------------------------------------

_REF = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "external": {"type": "string"},
    },
    "additionalProperties": False,
    "oneOf": [{"required": ["name"]}, {"required": ["external"]}],
}
_NODE_CONFIG_FIELDS = (
    "advancedMachineFeatures bootDiskKMSCryptoKeyRef diskSizeGb diskType ephemeralStorageConfig "
    "ephemeralStorageLocalSsdConfig gcfsConfig guestAccelerator gvnic imageType kubeletConfig "
    "labels linuxNodeConfig localNvmeSsdBlockConfig localSsdCount loggingVariant machineType "
    "metadata minCpuPlatform nodeGroupRef oauthScopes preemptible reservationAffinity "
    "resourceLabels sandboxConfig serviceAccountRef shieldedInstanceConfig soleTenantConfig spot "
    "tags taint workloadMetadataConfig"
).split()
_SPEC_FIELDS = (
    "autoscaling clusterRef initialNodeCount location management maxPodsPerNode namePrefix "
    "networkConfig nodeConfig nodeCount nodeLocations placementPolicy resourceID upgradeSettings "
    "version"
).split()
# The subset of container.cnrm.cloud.google.com/v1beta1 ContainerNodePool's CRD schema that
# matters here, with field names closed so that a typo ("taints", "machinetype") fails.
NODE_POOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": CNRM_NODE_POOL[0]},
        "kind": {"const": CNRM_NODE_POOL[1]},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": DNS1123.pattern, "maxLength": 40}},
        },
        "spec": {
            "type": "object",
            "required": ["clusterRef", "location", "nodeConfig", "autoscaling"],
            "propertyNames": {"enum": _SPEC_FIELDS},
            "properties": {
                "clusterRef": _REF,
                "location": {"type": "string", "pattern": r"^[a-z]+-[a-z]+[0-9](-[a-z])?$"},
                "initialNodeCount": {"type": "integer", "minimum": 0},
                "autoscaling": {
                    "type": "object",
                    "required": ["minNodeCount", "maxNodeCount"],
                    "additionalProperties": False,
                    "properties": {
                        "minNodeCount": {"type": "integer", "minimum": 0},
                        "maxNodeCount": {"type": "integer", "minimum": 1},
                        "locationPolicy": {"enum": ["BALANCED", "ANY"]},
                    },
                },
                "management": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "autoRepair": {"type": "boolean"},
                        "autoUpgrade": {"type": "boolean"},
                    },
                },
                "placementPolicy": {
                    "type": "object",
                    "required": ["type"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"enum": ["COMPACT"]},
                        "tpuTopology": {"type": "string", "pattern": r"^\d+x\d+(x\d+)?$"},
                    },
                },
                "nodeConfig": {
                    "type": "object",
                    "required": ["machineType"],
                    "propertyNames": {"enum": _NODE_CONFIG_FIELDS},
                    "properties": {
                        "machineType": {"type": "string", "pattern": r"^[a-z0-9]+-[a-z0-9-]+$"},
                        "imageType": {"enum": ["COS_CONTAINERD", "UBUNTU_CONTAINERD"]},
                        "diskSizeGb": {"type": "integer", "minimum": 10},
                        "diskType": {"enum": ["pd-standard", "pd-balanced", "pd-ssd"]},
                        "oauthScopes": {"type": "array", "items": {"type": "string"}},
                        "guestAccelerator": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["type", "count"],
                                "additionalProperties": False,
                                "properties": {
                                    "type": {"type": "string"},
                                    "count": {"type": "integer", "minimum": 1},
                                    "gpuDriverInstallationConfig": {
                                        "type": "object",
                                        "required": ["gpuDriverVersion"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "gpuDriverVersion": {
                                                "enum": [
                                                    "DEFAULT",
                                                    "LATEST",
                                                    "INSTALLATION_DISABLED",
                                                ]
                                            }
                                        },
                                    },
                                },
                            },
                        },
                        "taint": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["key", "value", "effect"],
                                "additionalProperties": False,
                                "properties": {
                                    "key": {"type": "string"},
                                    "value": {"type": "string"},
                                    "effect": {"enum": list(GKE_EFFECTS)},
                                },
                            },
                        },
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "workloadMetadataConfig": {
                            "type": "object",
                            "required": ["mode"],
                            "additionalProperties": False,
                            "properties": {"mode": {"enum": ["GKE_METADATA", "GCE_METADATA"]}},
                        },
                    },
                },
            },
        },
    },
}


def validate_node_pool(obj: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(NODE_POOL_SCHEMA).validate(obj)
    spec, name = obj["spec"], obj["metadata"]["name"]
    low, high = spec["autoscaling"]["minNodeCount"], spec["autoscaling"]["maxNodeCount"]
    _check(low <= high, f"{name}: minNodeCount {low} > maxNodeCount {high}")
    initial = spec.get("initialNodeCount", low)
    _check(low <= initial <= high, f"{name}: initialNodeCount {initial} not in [{low}, {high}]")
    for label in spec["nodeConfig"].get("labels", {}):
        _check(
            not label.startswith(("cloud.google.com/", "kubernetes.io/", "k8s.io/")),
            f"{name}: node label {label} is reserved (GKE sets it)",
        )


# --- what GKE makes of a node pool ------------------------------------------------------------


def pool_name(pool: dict[str, Any]) -> str:
    return pool["spec"].get("resourceID") or pool["metadata"]["name"]


def tpu_chips(machine_type: str) -> int:
    """ct5lp-hightpu-4t → 4 chips on the host."""
    match = re.search(r"-(\d+)t$", machine_type)
    _check(match, f"{machine_type}: not a TPU machine type")
    return int(match.group(1))


def node_labels(pool: dict[str, Any]) -> dict[str, str]:
    """The cloud.google.com/gke-* labels GKE puts on the pool's nodes, plus nodeConfig.labels."""
    config = pool["spec"]["nodeConfig"]
    labels = {NODEPOOL_LABEL: pool_name(pool), **config.get("labels", {})}
    for accelerator in config.get("guestAccelerator", []):
        labels[GPU_LABEL] = accelerator["type"]
    machine = config["machineType"]
    tpu = [label for prefix, label in TPU_MACHINES.items() if machine.startswith(prefix)]
    if tpu:
        labels[TPU_LABEL] = tpu[0]
        topology = pool["spec"].get("placementPolicy", {}).get("tpuTopology")
        _check(topology, f"{pool_name(pool)}: TPU pool without placementPolicy.tpuTopology")
        labels[TPU_TOPOLOGY_LABEL] = topology
    return labels


def node_taints(pool: dict[str, Any]) -> list[dict[str, str]]:
    """The pool's taints as Kubernetes writes them on the node."""
    return [
        {"key": t["key"], "value": t["value"], "effect": GKE_EFFECTS[t["effect"]]}
        for t in pool["spec"]["nodeConfig"].get("taint", [])
    ]


def tolerates(tolerations: list[Mapping[str, str]], taint: Mapping[str, str]) -> bool:
    for t in tolerations:
        if t.get("effect") not in (None, "", taint["effect"]):
            continue
        if t.get("operator", "Equal") == "Exists":
            if t.get("key") in (None, "", taint["key"]):
                return True
        elif t.get("key") == taint["key"] and t.get("value") == taint["value"]:
            return True
    return False


def schedulable(pool, selector: Mapping[str, str], tolerations: list[Mapping[str, str]]) -> bool:
    """Whether a pod with this node selector and these tolerations may land on the pool."""
    labels = node_labels(pool)
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    return all(
        tolerates(tolerations, t)
        for t in node_taints(pool)
        if t["effect"] in ("NoSchedule", "NoExecute")
    )


def pools_for(pools, selector, tolerations) -> list[str]:
    return [pool_name(p) for p in pools if schedulable(p, selector, tolerations)]


def allocatable(machine_type: str) -> tuple[float, float]:
    """GKE's allocatable (CPU cores, memory GiB) on a Standard node of this machine type
    (kube/system reservations and the 100 MiB eviction threshold; DaemonSets not counted)."""
    cpus, mem = MACHINES[machine_type]
    cpu_reserved = sum(
        0.06 if core == 0 else 0.01 if core == 1 else 0.005 if core < 4 else 0.0025
        for core in range(cpus)
    )
    mem_reserved, left = 0.0, mem
    for size, share in ((4, 0.25), (4, 0.20), (8, 0.10), (112, 0.06), (float("inf"), 0.02)):
        part = min(left, size)
        mem_reserved, left = mem_reserved + part * share, left - part
    return cpus - cpu_reserved, mem - mem_reserved - 100 / 1024


# --- the contract -----------------------------------------------------------------------------


def check_pools(loaded) -> dict[str, dict[str, Any]]:
    pools = {pool_name(p): p for p in find(loaded, "ContainerNodePool")}
    _check(set(pools) == set(EXPECTED_POOLS), f"node pools {sorted(pools)}")
    for name, want in EXPECTED_POOLS.items():
        spec = pools[name]["spec"]
        _check(
            spec["clusterRef"] in ({"name": CLUSTER}, {"external": CLUSTER}),
            f"{name}: clusterRef {spec['clusterRef']} is not {CLUSTER}",
        )
        _check(
            spec["nodeConfig"]["machineType"] == want["machine"],
            f"{name}: machine type {spec['nodeConfig']['machineType']}",
        )
        got = (spec["autoscaling"]["minNodeCount"], spec["autoscaling"]["maxNodeCount"])
        _check(got == (want["min"], want["max"]), f"{name}: autoscaling {got}")
        _check(
            spec["nodeConfig"].get("workloadMetadataConfig", {}).get("mode") == "GKE_METADATA",
            f"{name}: Workload Identity needs workloadMetadataConfig.mode GKE_METADATA",
        )
    _check(len({p["spec"]["location"] for p in pools.values()}) == 1, "pools in different places")

    cpu, gpu, tpu = pools[CPU_POOL], pools[GPU_POOL], pools[TPU_POOL]
    # CPU pool: untainted, no accelerators, selected by its pool-name label.
    _check(not node_taints(cpu), f"{CPU_POOL} must not be tainted")
    _check(not cpu["spec"]["nodeConfig"].get("guestAccelerator"), f"{CPU_POOL} has a GPU")
    _check(node_labels(cpu)[NODEPOOL_LABEL] == CPU_POOL, f"{CPU_POOL}: pool label")
    # GPU pool: one T4 per node; the taint is exactly what the toleration tolerates.
    accelerators = gpu["spec"]["nodeConfig"].get("guestAccelerator", [])
    _check(
        [a["type"] for a in accelerators] == [GPU_TYPE],
        f"{GPU_POOL}: accelerators {accelerators}, want {GPU_TYPE} (the node selector value)",
    )
    _check(accelerators[0]["count"] == 1, f"{GPU_POOL}: {accelerators[0]['count']} GPUs per node")
    _check(node_labels(gpu).get(GPU_LABEL) == GPU_TYPE, f"{GPU_POOL}: {GPU_LABEL}")
    taints = node_taints(gpu)
    _check(
        [(t["key"], t["effect"]) for t in taints]
        == [(GPU_TOLERATION["key"], GPU_TOLERATION["effect"])],
        f"{GPU_POOL}: taints {taints} do not match the toleration {GPU_TOLERATION}",
    )
    _check(taints[0]["value"] == "present", f"{GPU_POOL}: taint value {taints[0]['value']}")
    # TPU pool: v5e 2x2 on one 4-chip host, tainted google.com/tpu.
    labels = node_labels(tpu)
    _check(
        {k: labels.get(k) for k in TPU_SELECTOR} == TPU_SELECTOR,
        f"{TPU_POOL}: node labels {labels} do not give {TPU_SELECTOR}",
    )
    _check(tpu["spec"]["placementPolicy"]["type"] == "COMPACT", f"{TPU_POOL}: placement type")
    chips = tpu_chips(tpu["spec"]["nodeConfig"]["machineType"])
    dims = [int(d) for d in labels[TPU_TOPOLOGY_LABEL].split("x")]
    _check(
        chips == TPU_CHIPS and dims[0] * dims[1] * (dims[2] if dims[2:] else 1) == chips,
        f"{TPU_POOL}: topology {labels[TPU_TOPOLOGY_LABEL]} is not one {chips}-chip host",
    )
    taints = node_taints(tpu)
    _check(
        [(t["key"], t["effect"], t["value"]) for t in taints]
        == [(TPU_TOLERATION["key"], TPU_TOLERATION["effect"], "present")],
        f"{TPU_POOL}: taints {taints} do not match the toleration {TPU_TOLERATION}",
    )
    _check(not tpu["spec"]["nodeConfig"].get("guestAccelerator"), f"{TPU_POOL} has a GPU")
    # Scheduling, as the scheduler would decide it.
    every = list(pools.values())
    _check(pools_for(every, {NODEPOOL_LABEL: CPU_POOL}, []) == [CPU_POOL], "cpu placement")
    _check(pools_for(every, {GPU_LABEL: GPU_TYPE}, [GPU_TOLERATION]) == [GPU_POOL], "gpu placement")
    _check(pools_for(every, TPU_SELECTOR, [TPU_TOLERATION]) == [TPU_POOL], "tpu placement")
    _check(pools_for(every, {}, []) == [CPU_POOL], "untolerating pods must only fit the CPU pool")
    return pools


def _container_port(container: Mapping[str, Any], port: int | str) -> int:
    """A Service targetPort or probe port (number or name) → the container's port number."""
    ports = container.get("ports", [])
    if isinstance(port, int):
        _check(port in [p["containerPort"] for p in ports], f"port {port} is not exposed")
        return port
    named = [p["containerPort"] for p in ports if p.get("name") == port]
    _check(len(named) == 1, f"no container port named {port!r}")
    return named[0]


def check_tensorboard(loaded, pools: Mapping[str, dict[str, Any]]) -> None:
    account = one(loaded, "ServiceAccount", TENSORBOARD)
    config = one(loaded, "ConfigMap", TENSORBOARD)
    deployment = one(loaded, "Deployment", TENSORBOARD)
    service = one(loaded, "Service", TENSORBOARD)
    for obj in (account, config, deployment, service):
        _check(
            obj["metadata"].get("namespace") == NAMESPACE,
            f"{obj['kind']} {TENSORBOARD} not in namespace {NAMESPACE}",
        )

    gsa = account["metadata"].get("annotations", {}).get("iam.gke.io/gcp-service-account", "")
    _check(GSA_EMAIL.match(gsa), f"ServiceAccount: Workload Identity annotation {gsa!r}")
    _check(
        config.get("data", {}).get("logdir") == LOGDIR_DEFAULT,
        f"ConfigMap logdir {config.get('data')}",
    )

    pod = deployment["spec"]["template"]
    pod_labels, pod_spec = pod["metadata"].get("labels", {}), pod["spec"]
    match = deployment["spec"]["selector"].get("matchLabels", {})
    _check(
        match and match.items() <= pod_labels.items(),
        f"Deployment selector {match} does not select its pods {pod_labels}",
    )
    _check(pod_spec.get("serviceAccountName") == TENSORBOARD, "pod service account")
    _check(
        pod_spec.get("nodeSelector") == {NODEPOOL_LABEL: CPU_POOL},
        f"TensorBoard nodeSelector {pod_spec.get('nodeSelector')}",
    )
    _check(
        pools_for(pools.values(), pod_spec["nodeSelector"], pod_spec.get("tolerations", []))
        == [CPU_POOL],
        "TensorBoard must be schedulable on the CPU pool only",
    )

    containers = pod_spec["containers"]
    _check(len(containers) == 1, "one container")
    container = containers[0]
    _check(container["image"] == TENSORBOARD_IMAGE, f"image {container['image']}")
    _check(
        container.get("command") == TENSORBOARD_COMMAND and not container.get("args"),
        f"command {container.get('command')}",
    )
    env = {e["name"]: e for e in container.get("env", [])}
    ref = env.get("LOGDIR", {}).get("valueFrom", {}).get("configMapKeyRef", {})
    _check(
        ref.get("name") == config["metadata"]["name"]
        and ref.get("key") in config["data"]
        and not ref.get("optional"),
        f"LOGDIR is not read from the ConfigMap: {ref}",
    )

    security = {**pod_spec.get("securityContext", {}), **container.get("securityContext", {})}
    _check(security.get("runAsNonRoot") is True, "runAsNonRoot is not true")
    _check(security.get("runAsUser", 0) > 0, f"runAsUser {security.get('runAsUser')}")
    _check(security.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation")

    resources = container.get("resources", {})
    for kind in ("cpu", "memory"):
        req = resources.get("requests", {}).get(kind)
        lim = resources.get("limits", {}).get(kind)
        _check(req and lim, f"{kind}: requests and limits are both needed")
        _check(parse_quantity(req) <= parse_quantity(lim), f"{kind}: request {req} > limit {lim}")
    _check(
        not set(resources.get("limits", {})) - {"cpu", "memory", "ephemeral-storage"},
        "TensorBoard must not ask for accelerators",
    )
    cpu_cores, mem_gib = allocatable(pools[CPU_POOL]["spec"]["nodeConfig"]["machineType"])
    _check(
        float(parse_quantity(resources["requests"]["cpu"])) <= cpu_cores
        and float(parse_quantity(resources["requests"]["memory"])) <= mem_gib * 2**30,
        "TensorBoard requests more than a CPU node has",
    )

    probe = container.get("readinessProbe", {}).get("httpGet", {})
    _check(probe.get("path") == "/", f"readiness probe path {probe.get('path')}")
    _check(_container_port(container, probe.get("port")) == 6006, "readiness probe port")

    selector = service["spec"].get("selector", {})
    _check(
        selector and selector.items() <= pod_labels.items(),
        f"Service selector {selector} does not match the pod labels {pod_labels}",
    )
    ports = service["spec"].get("ports", [])
    _check(ports, "Service without ports")
    for port in ports:
        target = port.get("targetPort", port["port"])
        _check(_container_port(container, target) == 6006, f"targetPort {target}")


def validate_infra(loaded: Mapping[str, list[dict[str, Any]]]) -> None:
    """Everything under infra/: schemas first, then the contract."""
    with k8s.ApiClient() as api:
        for obj in objects(loaded):
            _check(isinstance(obj, dict) and "kind" in obj, f"not a Kubernetes object: {obj!r}")
            if (obj.get("apiVersion"), obj["kind"]) == CNRM_NODE_POOL:
                validate_node_pool(obj)
            else:
                validate_core(api, obj)
    pools = check_pools(loaded)
    check_tensorboard(loaded, pools)


# --- the Dockerfile ---------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with comments dropped and continuation lines joined."""
    instructions, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    if pending:
        word, _, rest = pending.strip().partition(" ")
        instructions.append((word.upper(), rest.strip()))
    return instructions


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def _project_packages() -> list[str]:
    """The top-level packages pyproject.toml ships ([tool.setuptools.packages.find] include)."""
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r"\[tool\.setuptools\.packages\.find\]\s*include\s*=\s*\[([^\]]*)\]", text)
    _check(match, "pyproject.toml: no [tool.setuptools.packages.find] include")
    return [p.rstrip("*") for p in re.findall(r'"([^"]+)"', match.group(1))]


def check_dockerfile(text: str) -> None:
    steps = dockerfile_instructions(text)
    kinds = [kind for kind, _ in steps]
    # Only ARGs (a base image chosen at build time) may come before the first FROM.
    before = kinds[: kinds.index("FROM")] if "FROM" in kinds else kinds
    _check("FROM" in kinds and set(before) <= {"ARG"}, "the Dockerfile must start with FROM")
    env = {}
    for kind, args in steps:
        if kind == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    _check(env.get("TF_USE_LEGACY_KERAS") == "1", "ENV TF_USE_LEGACY_KERAS=1 is missing")

    users = [args for kind, args in steps if kind == "USER"]
    _check(users, "no USER: the image would run as root")
    user = users[-1].split(":")[0]
    _check(user not in ("root", "0", ""), f"final USER {users[-1]} is root")
    runs = " && ".join(args for kind, args in steps if kind == "RUN")
    _check(
        re.search(rf"\buseradd\b[^&;]*\b{re.escape(user)}\b", runs) or user.isdigit(),
        f"USER {user} is never created",
    )

    # The project is installed: pip install . after copying pyproject.toml and its packages.
    commands = [shlex.split(part) for part in re.split(r"&&|;", runs)]
    installs = [
        c
        for c in commands
        if c[:2] in (["pip", "install"], ["pip3", "install"]) or c[1:4] == ["-m", "pip", "install"]
    ]
    _check(any("." in c for c in installs), "the project itself is never pip-installed")
    copied = set()
    for kind, args in steps:
        if kind in ("COPY", "ADD"):
            copied.update(a.rstrip("/") for a in shlex.split(args)[:-1] if not a.startswith("--"))
    packages = _project_packages()
    for needed in ["pyproject.toml", *packages]:
        _check(needed in copied or "." in copied, f"{needed} is not copied into the image")
    # The image is the tested environment: the lock itself is installed, after being copied.
    _check(
        any("requirements.lock" in c and "-r" in c for c in installs),
        "requirements.lock is never installed (pip install -r requirements.lock)",
    )
    _check("requirements.lock" in copied, "requirements.lock is not copied into the image")
    # Any pin added on top is the lock's.
    lock = _lock_pins()
    for name, version in re.findall(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)", runs):
        key = re.sub(r"[-_.]+", "-", name).lower()
        _check(lock.get(key) == version, f"{name}=={version}: the lock has {lock.get(key)}")


# --- tests: the real files --------------------------------------------------------------------

LOADED = load_infra(INFRA)


@pytest.fixture(scope="module")
def api() -> Iterator[k8s.ApiClient]:
    with k8s.ApiClient() as client:
        yield client


def _node_pools() -> list[dict[str, Any]]:
    return [o for o in objects(LOADED) if (o.get("apiVersion"), o.get("kind")) == CNRM_NODE_POOL]


def _core_objects() -> list[dict[str, Any]]:
    return [o for o in objects(LOADED) if (o.get("apiVersion"), o.get("kind")) in CORE_MODELS]


def _obj_id(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def test_the_expected_manifests_exist():
    assert {"gke/node-pools.yaml", "k8s/tensorboard.yaml", "k8s/tf-serving.yaml"} <= set(LOADED)
    assert all(LOADED.values()), "a YAML file under infra/ has no documents"


def test_every_object_has_a_validator():
    kinds = [(o.get("apiVersion"), o.get("kind")) for o in objects(LOADED)]
    unknown = [k for k in kinds if k not in CORE_MODELS and k != CNRM_NODE_POOL]
    assert not unknown, f"add a validator for {unknown}"


@pytest.mark.parametrize("obj", _core_objects(), ids=_obj_id)
def test_core_object_matches_the_kubernetes_models(api, obj):
    model = validate_core(api, obj)
    assert model.metadata.name == obj["metadata"]["name"]
    if obj["kind"] == "Deployment":  # the typed model holds what the contract relies on
        pod = model.spec.template.spec
        assert pod.node_selector == {NODEPOOL_LABEL: CPU_POOL}
        assert pod.security_context.run_as_non_root is True
        if obj["metadata"]["name"] == TENSORBOARD:
            assert pod.containers[0].env[0].value_from.config_map_key_ref.key == "logdir"
    if obj["kind"] == "Service":
        assert model.spec.ports[0].target_port == obj["spec"]["ports"][0]["targetPort"]


@pytest.mark.parametrize("obj", _node_pools(), ids=_obj_id)
def test_node_pool_matches_the_schema(obj):
    validate_node_pool(obj)


def test_node_pools_keep_the_placement_contract():
    pools = check_pools(LOADED)
    assert node_labels(pools[GPU_POOL])[GPU_LABEL] == GPU_TYPE
    assert node_taints(pools[GPU_POOL]) == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
    ]
    assert node_taints(pools[TPU_POOL]) == [
        {"key": "google.com/tpu", "value": "present", "effect": "NoSchedule"}
    ]


def test_tensorboard_is_wired_to_its_config_and_the_cpu_pool():
    check_tensorboard(LOADED, check_pools(LOADED))


def test_whole_infra_validates():
    validate_infra(LOADED)


def test_tensorboard_reads_the_compilers_pipeline_root():
    logdir = one(LOADED, "ConfigMap", TENSORBOARD)["data"]["logdir"]
    task_root = kubeflow.RemoteHome(kubeflow.DEFAULT_PIPELINE_ROOT).pipeline_root("penguin")
    assert task_root.startswith(logdir.rstrip("/") + "/")


def _placement_selector_tolerations(place: placement.Placement):
    return dict(place.node_selector), [dataclass_toleration(t) for t in place.tolerations]


def dataclass_toleration(t: placement.Toleration) -> dict[str, str]:
    return {"key": t.key, "operator": t.operator, "effect": t.effect}


def test_pipelines_placement_agrees_with_the_pools():
    pools = check_pools(LOADED)
    every = list(pools.values())
    # The constants the compiler uses are the contract's.
    assert (placement.NODEPOOL_LABEL, placement.GPU_LABEL) == (NODEPOOL_LABEL, GPU_LABEL)
    assert (placement.TPU_LABEL, placement.TPU_TOPOLOGY_LABEL) == (TPU_LABEL, TPU_TOPOLOGY_LABEL)
    assert (placement.CPU_POOL, placement.DEFAULT_GPU) == (CPU_POOL, GPU_TYPE)
    expected = {"cpu": CPU_POOL, "gpu": GPU_POOL, "tpu": TPU_POOL}
    for profile, place in placement.PROFILES.items():
        selector, tolerations = _placement_selector_tolerations(place)
        assert pools_for(every, selector, tolerations) == [expected[profile]], profile
    for data in (placement.DATA, placement.LIGHT):
        assert pools_for(every, *_placement_selector_tolerations(data)) == [CPU_POOL]
    gpu, tpu = placement.PROFILES["gpu"], placement.PROFILES["tpu"]
    assert dataclass_toleration(gpu.tolerations[0]) == GPU_TOLERATION
    assert dataclass_toleration(tpu.tolerations[0]) == TPU_TOLERATION
    assert gpu.accelerator == "nvidia.com/gpu" and gpu.accelerator_count == 1
    assert tpu.accelerator == "google.com/tpu" and tpu.accelerator_count == TPU_CHIPS
    assert dict(tpu.node_selector) == TPU_SELECTOR
    per_node = pools[GPU_POOL]["spec"]["nodeConfig"]["guestAccelerator"][0]["count"]
    assert gpu.accelerator_count <= per_node
    assert tpu.accelerator_count == tpu_chips(pools[TPU_POOL]["spec"]["nodeConfig"]["machineType"])


def _profiles() -> list[Any]:
    cases = [("data", placement.DATA, CPU_POOL), ("light", placement.LIGHT, CPU_POOL)]
    cases += [
        (f"profile-{k}", v, {"cpu": CPU_POOL, "gpu": GPU_POOL, "tpu": TPU_POOL}[k])
        for k, v in placement.PROFILES.items()
    ]
    return [pytest.param(place, pool, id=name) for name, place, pool in cases]


def check_fits(place: placement.Placement, pool: dict[str, Any]) -> None:
    """KFP sets the placement as the container's limits, and a container with limits only gets
    requests equal to them: one node of the pool must have that much allocatable."""
    cores, gib = allocatable(pool["spec"]["nodeConfig"]["machineType"])
    _check(
        place.cpu <= cores and place.memory_gb <= gib,  # GB <= GiB: a conservative check
        f"{place.cpu} CPU / {place.memory_gb} GB does not fit one {pool_name(pool)} node "
        f"({cores:.2f} CPU / {gib:.1f} GiB allocatable): the pod would stay Pending",
    )


@pytest.mark.parametrize(("place", "pool"), _profiles())
def test_placement_fits_on_one_node_of_its_pool(place, pool):
    check_fits(place, one(LOADED, "ContainerNodePool", pool))


def test_fit_check_rejects_an_oversized_placement():
    pool = one(LOADED, "ContainerNodePool", TPU_POOL)
    with pytest.raises(ManifestError, match="does not fit"):
        check_fits(placement.Placement(cpu=113, memory_gb=8, node_selector={}), pool)


def test_allocatable_matches_gke_reservations():
    cores, gib = allocatable("e2-standard-8")
    assert cores == pytest.approx(7.91)  # 8 - (0.06 + 0.01 + 2 * 0.005 + 4 * 0.0025)
    assert gib == pytest.approx(32 - (1 + 0.8 + 0.8 + 16 * 0.06) - 100 / 1024)


def test_dockerfile_legacy_keras_non_root_and_project_installed():
    check_dockerfile((INFRA / "Dockerfile").read_text())


# --- tests: the validators reject broken manifests --------------------------------------------


def _pool(loaded, name):
    return one(loaded, "ContainerNodePool", name)


def _tb(loaded, kind):
    return one(loaded, kind, TENSORBOARD)


def _container(loaded):
    return _tb(loaded, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(obj):
        *parents, last = path.split(".")
        for key in parents:
            obj = obj[int(key)] if isinstance(obj, list) else obj[key]
        index = int(last) if isinstance(obj, list) else last
        if value is _DELETE:
            del obj[index]
        else:
            obj[index] = value

    return apply


_DELETE = object()

MUTATIONS = {
    # ContainerNodePool schema
    "gpu taint misspelt as taints": (
        lambda d: _pool(d, GPU_POOL)["spec"]["nodeConfig"].__setitem__(
            "taints", _pool(d, GPU_POOL)["spec"]["nodeConfig"].pop("taint")
        ),
        jsonschema.ValidationError,
    ),
    "node pool without location": (
        lambda d: _set("spec.location", _DELETE)(_pool(d, CPU_POOL)),
        jsonschema.ValidationError,
    ),
    "node pool without clusterRef": (
        lambda d: _set("spec.clusterRef", _DELETE)(_pool(d, CPU_POOL)),
        jsonschema.ValidationError,
    ),
    "kubernetes spelling of the taint effect": (
        lambda d: _set("spec.nodeConfig.taint.0.effect", "NoSchedule")(_pool(d, GPU_POOL)),
        jsonschema.ValidationError,
    ),
    "min above max": (
        lambda d: _set("spec.autoscaling.minNodeCount", 5)(_pool(d, CPU_POOL)),
        ManifestError,
    ),
    # the placement contract
    "gpu taint effect PREFER_NO_SCHEDULE": (
        lambda d: _set("spec.nodeConfig.taint.0.effect", "PREFER_NO_SCHEDULE")(_pool(d, GPU_POOL)),
        ManifestError,
    ),
    "gpu taint key nvidia.com/gpus": (
        lambda d: _set("spec.nodeConfig.taint.0.key", "nvidia.com/gpus")(_pool(d, GPU_POOL)),
        ManifestError,
    ),
    "gpu pool without taint": (
        lambda d: _set("spec.nodeConfig.taint", _DELETE)(_pool(d, GPU_POOL)),
        ManifestError,
    ),
    "gpu accelerator v100": (
        lambda d: _set("spec.nodeConfig.guestAccelerator.0.type", "nvidia-tesla-v100")(
            _pool(d, GPU_POOL)
        ),
        ManifestError,
    ),
    "cpu pool tainted": (
        lambda d: _set(
            "spec.nodeConfig.taint",
            [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}],
        )(_pool(d, CPU_POOL)),
        ManifestError,
    ),
    "cpu pool renamed": (
        lambda d: _set("metadata.name", "default-pool")(_pool(d, CPU_POOL)),
        ManifestError,
    ),
    "tpu topology 2x4": (
        lambda d: _set("spec.placementPolicy.tpuTopology", "2x4")(_pool(d, TPU_POOL)),
        ManifestError,
    ),
    "tpu machine with 8 chips": (
        lambda d: _set("spec.nodeConfig.machineType", "ct5lp-hightpu-8t")(_pool(d, TPU_POOL)),
        ManifestError,
    ),
    "tpu taint key google.com/tpus": (
        lambda d: _set("spec.nodeConfig.taint.0.key", "google.com/tpus")(_pool(d, TPU_POOL)),
        ManifestError,
    ),
    "gpu pool without workload identity": (
        lambda d: _set("spec.nodeConfig.workloadMetadataConfig", _DELETE)(_pool(d, GPU_POOL)),
        ManifestError,
    ),
    # core objects through the kubernetes models
    "container without name": (lambda d: _set("name", _DELETE)(_container(d)), ValueError),
    "deployment without selector": (
        lambda d: _set("spec.selector", _DELETE)(_tb(d, "Deployment")),
        ValueError,
    ),
    "misspelt nodeSelector": (
        lambda d: _set("spec.template.spec.nodeSelectr", {NODEPOOL_LABEL: CPU_POOL})(
            _tb(d, "Deployment")
        ),
        ManifestError,
    ),
    "service port without port": (
        lambda d: _set("spec.ports.0.port", _DELETE)(_tb(d, "Service")),
        ValueError,
    ),
    # TensorBoard wiring
    "service selects other pods": (
        lambda d: _set("spec.selector", {"app.kubernetes.io/name": "other"})(_tb(d, "Service")),
        ManifestError,
    ),
    "targetPort 6007": (
        lambda d: _set("spec.ports.0.targetPort", 6007)(_tb(d, "Service")),
        ManifestError,
    ),
    "named targetPort that does not exist": (
        lambda d: _set("spec.ports.0.targetPort", "web")(_tb(d, "Service")),
        ManifestError,
    ),
    "configmap key renamed": (
        lambda d: _tb(d, "ConfigMap").__setitem__("data", {"log_dir": LOGDIR_DEFAULT}),
        ManifestError,
    ),
    "LOGDIR from another configmap": (
        lambda d: _set("env.0.valueFrom.configMapKeyRef.name", "other")(_container(d)),
        ManifestError,
    ),
    "logdir outside the pipeline root": (
        lambda d: _tb(d, "ConfigMap").__setitem__("data", {"logdir": "gs://elsewhere"}),
        ManifestError,
    ),
    "runs as root": (
        lambda d: _set("spec.template.spec.securityContext.runAsUser", 0)(_tb(d, "Deployment")),
        ManifestError,
    ),
    "on the gpu pool": (
        lambda d: _set("spec.template.spec.nodeSelector", {GPU_LABEL: GPU_TYPE})(
            _tb(d, "Deployment")
        ),
        ManifestError,
    ),
    "no resource limits": (
        lambda d: _set("resources.limits", _DELETE)(_container(d)),
        ManifestError,
    ),
    "requests above limits": (
        lambda d: _set("resources.requests.memory", "8Gi")(_container(d)),
        ManifestError,
    ),
    "readiness probe on /healthz": (
        lambda d: _set("readinessProbe.httpGet.path", "/healthz")(_container(d)),
        ManifestError,
    ),
    "command without $(LOGDIR)": (
        lambda d: _set("command.2", "/logs")(_container(d)),
        ManifestError,
    ),
    "no workload identity annotation": (
        lambda d: _set("metadata.annotations", _DELETE)(_tb(d, "ServiceAccount")),
        ManifestError,
    ),
    "wrong namespace": (
        lambda d: _set("metadata.namespace", "default")(_tb(d, "Service")),
        ManifestError,
    ),
}


# What each broken copy must be rejected for (so that it does not fail for another reason).
MUTATION_MESSAGES = {
    "gpu taint misspelt as taints": "'taints' is not one of",
    "node pool without location": "'location' is a required property",
    "node pool without clusterRef": "'clusterRef' is a required property",
    "kubernetes spelling of the taint effect": "'NoSchedule' is not one of",
    "min above max": "minNodeCount 5 > maxNodeCount 4",
    "gpu taint effect PREFER_NO_SCHEDULE": "gpu-pool: taints .* do not match the toleration",
    "gpu taint key nvidia.com/gpus": "gpu-pool: taints .* do not match the toleration",
    "gpu pool without taint": r"gpu-pool: taints \[\] do not match the toleration",
    "gpu accelerator v100": "gpu-pool: accelerators .*nvidia-tesla-v100",
    "cpu pool tainted": "cpu-pool must not be tainted",
    "cpu pool renamed": "node pools .*default-pool",
    "tpu topology 2x4": "tpu-pool: node labels .* do not give",
    "tpu machine with 8 chips": "tpu-pool: machine type ct5lp-hightpu-8t",
    "tpu taint key google.com/tpus": "tpu-pool: taints .* do not match the toleration",
    "gpu pool without workload identity": "gpu-pool: Workload Identity",
    "container without name": "`name`, must not be `None`",
    "deployment without selector": "`selector`, must not be `None`",
    "misspelt nodeSelector": "round trip through V1Deployment changed it",
    "service port without port": "`port`, must not be `None`",
    "service selects other pods": "Service selector .* does not match the pod labels",
    "targetPort 6007": "port 6007 is not exposed",
    "named targetPort that does not exist": "no container port named 'web'",
    "configmap key renamed": "ConfigMap logdir",
    "LOGDIR from another configmap": "LOGDIR is not read from the ConfigMap",
    "logdir outside the pipeline root": "ConfigMap logdir",
    "runs as root": "runAsUser 0",
    "on the gpu pool": "TensorBoard nodeSelector",
    "no resource limits": "cpu: requests and limits are both needed",
    "requests above limits": "memory: request 8Gi > limit 4Gi",
    "readiness probe on /healthz": "readiness probe path /healthz",
    "command without $(LOGDIR)": "command ",
    "no workload identity annotation": "Workload Identity annotation ''",
    "wrong namespace": "Service kfx-tensorboard not in namespace kubeflow",
}


def test_every_mutation_has_a_message():
    assert set(MUTATION_MESSAGES) == set(MUTATIONS)


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_validator_rejects(name):
    mutate, error = MUTATIONS[name]
    broken = copy.deepcopy(LOADED)
    mutate(broken)
    assert broken != LOADED
    with pytest.raises(error, match=MUTATION_MESSAGES[name]):
        validate_infra(broken)


def test_broken_copy_of_infra_on_disk_fails(tmp_path):
    copy_dir = tmp_path / "infra"
    shutil.copytree(INFRA, copy_dir)
    validate_infra(load_infra(copy_dir))  # the untouched copy passes
    pools_file = copy_dir / "gke" / "node-pools.yaml"
    text = pools_file.read_text()
    assert text.count("key: nvidia.com/gpu") == 1
    pools_file.write_text(text.replace("key: nvidia.com/gpu", "key: nvidia.com/gpu-shared"))
    with pytest.raises(ManifestError, match="toleration"):
        validate_infra(load_infra(copy_dir))
    pools_file.write_text(text + "---\n" + "kind: [unbalanced\n")
    with pytest.raises(yaml.YAMLError):
        load_infra(copy_dir)


DOCKERFILE_MUTATIONS = {
    "no TF_USE_LEGACY_KERAS": lambda t: t.replace("TF_USE_LEGACY_KERAS=1 \\\n", ""),
    "TF_USE_LEGACY_KERAS=0": lambda t: t.replace("TF_USE_LEGACY_KERAS=1", "TF_USE_LEGACY_KERAS=0"),
    "USER root": lambda t: t.replace("\nUSER kfx", "\nUSER root"),
    "no USER": lambda t: t.replace("\nUSER kfx", "\n"),
    "USER 0 appended": lambda t: t + "USER 0\n",
    "project not installed": lambda t: t.replace(
        "--no-build-isolation . ", "--no-build-isolation pipelines "
    ),
    "lock not installed": lambda t: t.replace("-r requirements.lock", "tfx==1.16.0"),
    "package not copied": lambda t: t.replace("COPY trainers ./trainers\n", ""),
    "pin differs from the lock": lambda t: t.replace(
        "-r requirements.lock", "-r requirements.lock keras-tuner==1.4.7"
    ),
}


@pytest.mark.parametrize("name", list(DOCKERFILE_MUTATIONS))
def test_dockerfile_check_rejects(name):
    text = (INFRA / "Dockerfile").read_text()
    broken = DOCKERFILE_MUTATIONS[name](text)
    assert broken != text, "the mutation no longer applies to infra/Dockerfile"
    with pytest.raises(ManifestError):
        check_dockerfile(broken)
