"""Submit and schedule compiled pipeline packages on Kubeflow Pipelines (KFP v2beta1 API).

Everything goes through the real `kfp.Client`. A package is uploaded once per pipeline name:
the first upload creates the pipeline (KFP names its first version after the pipeline), later
uploads add a version named `<sha256[:12]>-<UTC timestamp>`. Runs and recurring runs always
reference an uploaded version, never an inline spec, so the KFP UI shows what ran.

KFP has no update call for recurring runs (kubeflow/pipelines#3789), so `schedule` is made
idempotent by display name: an existing recurring run with the same name in the experiment is
disabled, then deleted, then a new one is created.

`kfp` is imported inside the functions so that the CLI starts fast.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipelines.errors import TaskError

log = logging.getLogger(__name__)

API = "/apis/v2beta1"
PACKAGE_SUFFIXES = (".yaml", ".yml", ".zip", ".tar.gz", ".tgz")
CRON_FIELDS = ("second", "minute", "hour", "day-of-month", "month", "day-of-week")
MAX_CONCURRENCY = 10
"""KFP accepts max_concurrency from 1 to 10."""
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 5.0, 30.0
"""Limits of the reachability check that runs before kfp.Client is built."""
MAX_PAGES = 100
PAGE_SIZE = 100
HINT = (
    "check that Kubeflow Pipelines is reachable, e.g. run "
    "`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80` and pass "
    "--host http://localhost:8080"
)
STATUS_HINTS = {
    401: "the endpoint needs authentication; use a port-forward to ml-pipeline-ui instead",
    403: "the endpoint needs authentication; use a port-forward to ml-pipeline-ui instead",
    404: "is the host a KFP >= 2.0 API endpoint? " + HINT,
}


def submit(
    package: Path,
    host: str,
    pipeline_name: str,
    experiment: str = "kfx",
    run_name: str | None = None,
) -> dict[str, str]:
    """Upload a compiled package and start one run of the uploaded version.

    Args:
        package: Compiled KFP package (.yaml, .yml, .zip, .tar.gz or .tgz).
        host: KFP API endpoint, e.g. http://localhost:8080.
        pipeline_name: Display name of the KFP pipeline (created on first upload).
        experiment: Display name of the experiment, created when missing.
        run_name: Display name of the run (default: pipeline name and UTC time).

    Returns:
        `pipeline_id`, `version_id`, `version_name`, `experiment_id`, `run_id` and `run_url`.

    Raises:
        TaskError: The package, the host or a KFP request cannot be used.
    """
    package = _checked_package(package)
    host = _checked_host(host)
    run_name = run_name or f"{pipeline_name} {_now():%Y-%m-%d %H:%M:%S}"
    with _client(host) as client:
        uploaded = _upload(client, host, package, pipeline_name)
        experiment_id = _experiment_id(client, host, experiment)
        with _step(host, f"starting run {run_name!r}"):
            run = client.run_pipeline(
                experiment_id=experiment_id,
                job_name=run_name,
                pipeline_id=uploaded["pipeline_id"],
                version_id=uploaded["version_id"],
            )
    return uploaded | {
        "experiment_id": experiment_id,
        "run_id": run.run_id,
        "run_url": f"{host}/#/runs/details/{run.run_id}",
    }


def schedule(
    package: Path,
    host: str,
    pipeline_name: str,
    schedule_name: str,
    cron: str,
    experiment: str = "kfx",
    max_concurrency: int = 1,
) -> dict[str, Any]:
    """Upload a compiled package and (re)create the recurring run `schedule_name` for it.

    Any recurring run with the same display name in the experiment is disabled and deleted
    first, so calling this again with a new package or cron replaces the schedule. Missed
    intervals are not backfilled (`no_catchup`).

    Args:
        package: Compiled KFP package (.yaml, .yml, .zip, .tar.gz or .tgz).
        host: KFP API endpoint, e.g. http://localhost:8080.
        pipeline_name: Display name of the KFP pipeline (created on first upload).
        schedule_name: Display name of the recurring run.
        cron: KFP's 6-field cron expression, seconds first, e.g. "0 0 3 * * *".
        experiment: Display name of the experiment, created when missing.
        max_concurrency: How many runs of the schedule may run at once (1 to 10).

    Returns:
        `recurring_run_id`, `replaced` (ids of the recurring runs removed), `pipeline_id`,
        `version_id`, `version_name` and `experiment_id`.

    Raises:
        TaskError: The arguments, the host or a KFP request cannot be used.
    """
    cron = check_cron(cron)
    _check_concurrency(max_concurrency)
    package = _checked_package(package)
    host = _checked_host(host)
    with _client(host) as client:
        uploaded = _upload(client, host, package, pipeline_name)
        experiment_id = _experiment_id(client, host, experiment)
        replaced = _remove_named(client, host, schedule_name, experiment_id)
        with _step(host, f"creating recurring run {schedule_name!r}"):
            created = client.create_recurring_run(
                experiment_id=experiment_id,
                job_name=schedule_name,
                cron_expression=cron,
                max_concurrency=max_concurrency,
                no_catchup=True,
                pipeline_id=uploaded["pipeline_id"],
                version_id=uploaded["version_id"],
            )
    return uploaded | {
        "recurring_run_id": created.recurring_run_id,
        "replaced": replaced,
        "experiment_id": experiment_id,
    }


def list_schedules(host: str, experiment: str | None = None) -> list[dict[str, Any]]:
    """Recurring runs on the host, optionally only those of one experiment.

    Args:
        host: KFP API endpoint, e.g. http://localhost:8080.
        experiment: Display name of an experiment; None lists every recurring run.

    Returns:
        One dict per recurring run: `id`, `name`, `cron`, `status`, `pipeline_version_id`
        and `experiment_id`.

    Raises:
        TaskError: The host, the experiment or a KFP request cannot be used.
    """
    host = _checked_host(host)
    with _client(host) as client:
        experiment_id = _existing_experiment_id(client, host, experiment)
        return [_describe(run) for run in _recurring_runs(client, host, experiment_id)]


def delete_schedule(host: str, name: str, experiment: str | None = None) -> list[str]:
    """Disable and delete every recurring run whose display name is `name`.

    Args:
        host: KFP API endpoint, e.g. http://localhost:8080.
        name: Display name of the recurring run(s).
        experiment: Only look in this experiment; None looks in all of them.

    Returns:
        Ids of the deleted recurring runs.

    Raises:
        TaskError: No recurring run has that name, or the host or a request cannot be used.
    """
    host = _checked_host(host)
    with _client(host) as client:
        experiment_id = _existing_experiment_id(client, host, experiment)
        deleted = _remove_named(client, host, name, experiment_id)
    if not deleted:
        where = f" in experiment {experiment!r}" if experiment else ""
        raise TaskError(
            f"no schedule named {name!r}{where} on {host}; `list_schedules` shows the names"
        )
    return deleted


def check_cron(cron: str) -> str:
    """Return the cron expression normalised to single spaces, or raise TaskError.

    Args:
        cron: KFP cron expression: 6 fields, seconds first (robfig/cron), e.g. "0 0 3 * * *".

    Returns:
        The expression with its fields separated by single spaces.

    Raises:
        TaskError: The expression does not have 6 fields.
    """
    fields = str(cron).split()
    if len(fields) == len(CRON_FIELDS):
        return " ".join(fields)
    example = f'; did you mean "0 {" ".join(fields)}"' if len(fields) == 5 else ""
    raise TaskError(
        f"cron {cron!r} has {len(fields)} fields; KFP needs 6 ({' '.join(CRON_FIELDS)}), "
        f'e.g. "0 0 3 * * *" for 03:00 every day{example}'
    )


def _check_concurrency(max_concurrency: int) -> None:
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise TaskError(f"max_concurrency {max_concurrency}: KFP accepts 1 to {MAX_CONCURRENCY}")


def _checked_package(package: Path) -> Path:
    package = Path(package)
    if not package.is_file():
        raise TaskError(f"{package}: no such file; compile the pipeline package first")
    if not package.name.endswith(PACKAGE_SUFFIXES):
        raise TaskError(
            f"{package}: not a KFP package; expected one of {', '.join(PACKAGE_SUFFIXES)}"
        )
    return package


def _checked_host(host: str) -> str:
    if not host or not host.startswith(("http://", "https://")):
        raise TaskError(
            f"--host {host!r}: give the KFP endpoint as a URL, e.g. http://localhost:8080"
        )
    return host.rstrip("/")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _version_name(package: Path) -> str:
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    return f"{digest[:12]}-{_now():%Y%m%d-%H%M%S-%f}"


@contextlib.contextmanager
def _client(host: str) -> Iterator[Any]:
    """A kfp.Client for `host`, with KFP's stdout chatter and FutureWarning kept quiet."""
    _check_reachable(host)
    import kfp

    chatter = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(chatter):
        warnings.simplefilter("ignore", FutureWarning)
        with _step(host, "connecting"):
            client = kfp.Client(host=host)
        try:
            yield client
        finally:
            if chatter.getvalue():
                log.debug("kfp.Client said: %s", chatter.getvalue().strip())


def _check_reachable(host: str) -> None:
    """Fail fast with a useful message: kfp.Client has no timeouts and retries for 25 s."""
    import urllib3

    pool = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S), retries=False
    )
    url = f"{host}{API}/healthz"
    try:
        response = pool.request("GET", url)
    except urllib3.exceptions.HTTPError as err:
        raise TaskError(
            f"cannot reach Kubeflow Pipelines at {host} ({_reason(err)}); {HINT}"
        ) from None
    finally:
        pool.clear()
    if response.status != 200:
        hint = STATUS_HINTS.get(response.status, HINT)
        raise TaskError(f"{url} answered HTTP {response.status}; {hint}")
    try:
        json.loads(response.data)
    except ValueError:
        raise TaskError(f"{url} did not answer JSON, so it is not the KFP API; {HINT}") from None


def _reason(err: Exception) -> str:
    """urllib3's message without its 'HTTPConnection(host=..., port=...): ' prefix."""
    text = str(getattr(err, "reason", None) or err)
    return re.sub(r"^HTTP\w*\(host=[^)]*\):? ", "", text)


@contextlib.contextmanager
def _step(host: str, doing: str) -> Iterator[None]:
    """Turn what kfp and its HTTP stack raise into a TaskError that says what failed."""
    import kfp_server_api
    import urllib3

    try:
        yield
    except TaskError:
        raise
    except kfp_server_api.ApiException as err:
        hint = STATUS_HINTS.get(err.status, "")
        raise TaskError(
            f"{doing} on {host} failed: HTTP {err.status} {err.reason}: {_api_message(err)}"
            + (f"; {hint}" if hint else "")
        ) from None
    except urllib3.exceptions.HTTPError as err:
        raise TaskError(f"{doing} on {host} failed: {_reason(err)}; {HINT}") from None
    except ValueError as err:
        raise TaskError(f"{doing} on {host} failed: {err}") from None


def _api_message(err: Any) -> str:
    """The server's message from a grpc-gateway error body, else the raw body."""
    body = err.body.decode(errors="replace") if isinstance(err.body, bytes) else err.body
    try:
        data = json.loads(body or "")
    except ValueError:
        return (body or "").strip()[:500]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or data)[:500]
    return str(data)[:500]


def _upload(client: Any, host: str, package: Path, pipeline_name: str) -> dict[str, str]:
    """Upload `package` as pipeline `pipeline_name`, or as a new version when it exists."""
    with _step(host, f"looking up pipeline {pipeline_name!r}"):
        pipeline_id = client.get_pipeline_id(pipeline_name)
    if pipeline_id is None:
        with _step(host, f"uploading {package.name} as pipeline {pipeline_name!r}"):
            pipeline = client.upload_pipeline(str(package), pipeline_name=pipeline_name)
            version = _latest_version(client, pipeline.pipeline_id)
        return _uploaded(pipeline.pipeline_id, version)
    name = _version_name(package)
    with _step(host, f"uploading {package.name} as version {name!r} of {pipeline_name!r}"):
        version = client.upload_pipeline_version(str(package), name, pipeline_id=pipeline_id)
    return _uploaded(pipeline_id, version)


def _latest_version(client: Any, pipeline_id: str) -> Any:
    listed = client.list_pipeline_versions(pipeline_id, page_size=1, sort_by="created_at desc")
    if not listed.pipeline_versions:
        raise TaskError(f"pipeline {pipeline_id} was uploaded but KFP lists no version of it")
    return listed.pipeline_versions[0]


def _uploaded(pipeline_id: str, version: Any) -> dict[str, str]:
    return {
        "pipeline_id": pipeline_id,
        "version_id": version.pipeline_version_id,
        "version_name": version.display_name,
    }


def _experiment_id(client: Any, host: str, name: str) -> str:
    """Id of the experiment `name`, created when missing."""
    with _step(host, f"getting or creating experiment {name!r}"):
        return client.create_experiment(name).experiment_id


def _existing_experiment_id(client: Any, host: str, name: str | None) -> str | None:
    if name is None:
        return None
    name_filter = json.dumps(
        {"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": name}]}
    )
    with _step(host, f"looking up experiment {name!r}"):
        listed = client.list_experiments(filter=name_filter, page_size=PAGE_SIZE)
    found = [e for e in listed.experiments or [] if e.display_name == name]
    if not found:
        raise TaskError(f"no experiment named {name!r} on {host}; leave out the experiment")
    return found[0].experiment_id


def _recurring_runs(client: Any, host: str, experiment_id: str | None) -> list[Any]:
    """Every recurring run (of one experiment when `experiment_id` is set), all pages."""
    runs, token = [], ""
    with _step(host, "listing recurring runs"):
        for _ in range(MAX_PAGES):
            page = client.list_recurring_runs(
                page_token=token, page_size=PAGE_SIZE, experiment_id=experiment_id
            )
            runs += page.recurring_runs or []
            token = page.next_page_token
            if not token:
                return runs
    raise TaskError(f"{host} lists more than {MAX_PAGES * PAGE_SIZE} recurring runs")


def _remove_named(client: Any, host: str, name: str, experiment_id: str | None) -> list[str]:
    """Disable, then delete, each recurring run called `name`; return their ids."""
    ids = [
        run.recurring_run_id
        for run in _recurring_runs(client, host, experiment_id)
        if run.display_name == name
    ]
    for run_id in ids:
        with _step(host, f"disabling recurring run {name!r} ({run_id})"):
            client.disable_recurring_run(run_id)
        with _step(host, f"deleting recurring run {name!r} ({run_id})"):
            client.delete_recurring_run(run_id)
    return ids


def _describe(run: Any) -> dict[str, Any]:
    trigger = run.trigger
    cron = None
    if trigger is not None and trigger.cron_schedule is not None:
        cron = trigger.cron_schedule.cron
    elif trigger is not None and trigger.periodic_schedule is not None:
        cron = f"every {trigger.periodic_schedule.interval_second}s"
    reference = run.pipeline_version_reference
    version_id = reference.pipeline_version_id if reference else run.pipeline_version_id
    return {
        "id": run.recurring_run_id,
        "name": run.display_name,
        "cron": cron,
        "status": run.status,
        "pipeline_version_id": version_id,
        "experiment_id": run.experiment_id,
    }
