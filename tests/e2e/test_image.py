"""The component image, built from infra/Dockerfile and run: what a cluster would start.

`make image` builds it with buildah (`infra/build_image.sh`); here the same script builds it,
then one compiled container command runs inside it as the non-root user, and every executor
module any compiled task names imports in it. Skipped, with the reason, without buildah.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components import entrypoint
from pipelines import api, kfp_local, kubeflow, tasks
from pipelines.home import Home

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("buildah") is None, reason="buildah is not installed"),
]
PROJECT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/kfx:test"
USER = "1000"


@pytest.fixture(scope="module")
def image() -> str:
    env = dict(os.environ, IMAGE=IMAGE)
    build = subprocess.run(
        ["bash", str(PROJECT / "infra" / "build_image.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return IMAGE


def in_image(image: str, command: list[str], mounts: tuple[Path, ...] = ()):
    """Runs `command` in a fresh container of `image` as uid 1000; the CompletedProcess."""
    container = subprocess.run(
        ["buildah", "from", image], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        volumes = [arg for m in mounts for arg in ("--volume", f"{m}:{m}")]
        return subprocess.run(
            ["buildah", "run", "--isolation", "chroot", "--user", USER, *volumes, container, "--"]
            + command,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)


def test_the_image_runs_as_a_non_root_user(image):
    ran = in_image(image, ["id", "-u"])
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == USER


def test_a_compiled_command_runs_in_the_image(image, tmp_path):
    """ImportSchemaGen's command from the compiled penguin YAML, as a cluster would start it."""
    root = tmp_path / "remote"
    home = Home(tmp_path / "home")
    spec = tasks.get("penguin", home)
    compiled = api.compile_task(home, spec, api.Settings(), image, str(root))
    schema = Path(kubeflow.RemoteHome(str(root)).schema_file("penguin"))
    schema.parent.mkdir(parents=True)
    shutil.copyfile(spec.schema_path, schema)  # what a user uploads beside the data
    pipeline_root = kubeflow.RemoteHome(str(root)).pipeline_root("penguin")
    command = kfp_local.task_command(compiled.path, "ImportSchemaGen", pipeline_root)
    assert command[:3] == entrypoint.COMMAND
    os.chmod(tmp_path, 0o777)
    for folder in (root, *root.rglob("*")):
        folder.chmod(0o777)  # the container's user (uid 1000) writes the outputs
    ran = in_image(image, command, mounts=(tmp_path,))
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-4000:]
    written = list(Path(pipeline_root).rglob("schema.pbtxt"))
    assert written and written[0].read_text() == spec.schema_path.read_text()


@functools.cache
def _executor_classes() -> set[str]:
    classes = set()
    for spec in tasks.builtin().values():
        for target in ("kubeflow", "vertex"):
            settings = api.Settings(warm_start=spec.kind != "supervised" or not spec.source_task)
            source = "gs://bucket/serving/source/1" if spec.source_task else None
            opts = api.run_options(spec, settings, "gs://bucket/data", source_model=source)
            documents = kubeflow.compile_pipeline(spec, opts, IMAGE, "gs://bucket", target=target)
            for executor in documents[0]["deploymentSpec"]["executors"].values():
                args = executor.get("container", {}).get("args", [])
                if "--executor_class_path" in args:
                    classes.add(args[args.index("--executor_class_path") + 1])
    return classes


def test_every_compiled_executor_imports_in_the_image(image):
    classes = sorted(_executor_classes())
    assert any(c.startswith("components.") for c in classes), classes
    check = "; ".join(
        [
            "import importlib",
            "import components.entrypoint",
            f"paths = {classes!r}",
            "[getattr(importlib.import_module(p.rpartition('.')[0]), p.rpartition('.')[2])"
            " for p in paths]",
            "print(len(paths))",
        ]
    )
    ran = in_image(image, ["python", "-c", check])
    assert ran.returncode == 0, ran.stderr[-4000:]
    assert ran.stdout.strip().splitlines()[-1] == str(len(classes))
