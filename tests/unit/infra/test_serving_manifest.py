"""infra/k8s/tf-serving.yaml: TF Serving on the push folder the compiled pipelines write.

Validated like the other manifests (the `kubernetes` client's models, tests/unit/infra/
test_manifests.py), then held to what kfx promises: the model base path is the Kubeflow push
destination, it runs as a non-root user on the CPU pool, and its probes and Service use the
REST API `kfx serve` answers too.
"""

from kubernetes import client as k8s

from pipelines import kubeflow, serve_http
from tests.unit.infra.test_manifests import (
    CPU_POOL,
    LOADED,
    NAMESPACE,
    NODEPOOL_LABEL,
    check_pools,
    one,
    pools_for,
    validate_core,
)

NAME = "kfx-serving"


def _container():
    return one(LOADED, "Deployment", NAME)["spec"]["template"]["spec"]["containers"][0]


def test_every_object_passes_the_kubernetes_models():
    with k8s.ApiClient() as api:
        for kind in ("ServiceAccount", "Deployment", "Service"):
            obj = one(LOADED, kind, NAME)
            assert validate_core(api, obj).metadata.namespace == NAMESPACE


def test_it_serves_the_push_folder_of_a_compiled_pipeline():
    env = {e["name"]: e["value"] for e in _container()["env"]}
    served = f"{env['MODEL_BASE_PATH']}/{env['MODEL_NAME']}"  # the image's entrypoint joins them
    assert served == kubeflow.RemoteHome(kubeflow.DEFAULT_PIPELINE_ROOT).serving_dir("penguin")


def test_probes_and_service_use_the_rest_api_kfx_serve_answers():
    container = _container()
    model = {e["name"]: e["value"] for e in container["env"]}["MODEL_NAME"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["rest"] == serve_http.DEFAULT_PORT
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": f"/v1/models/{model}", "port": "rest"}
    service = one(LOADED, "Service", NAME)["spec"]
    assert {p["name"]: p["targetPort"] for p in service["ports"]} == {
        "rest": "rest",
        "grpc": "grpc",
    }


def test_it_runs_as_non_root_on_the_cpu_pool():
    pod = one(LOADED, "Deployment", NAME)["spec"]["template"]["spec"]
    assert (
        pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    )
    assert _container()["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["nodeSelector"] == {NODEPOOL_LABEL: CPU_POOL}
    pools = check_pools(LOADED)
    assert pools_for(pools.values(), pod["nodeSelector"], pod.get("tolerations", [])) == [CPU_POOL]
