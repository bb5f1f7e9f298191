"""`kfx`: run the course's tasks as TFX pipelines. Thin: parse, call one function, print.

Exit codes: 0 the command did its work (a run that was not blessed included), 1 a pipeline
component failed, 2 bad arguments or input (one line on stderr says what to do), 3 the data
failed validation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import pipelines  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from pipelines import cli_inspect, cli_serve, console, ids
from pipelines.cli_parser import Parser
from pipelines.errors import TaskError
from pipelines.home import Home, HomeBusy, HomeUnusable

EXIT_FAILED, EXIT_USAGE, EXIT_INVALID_DATA = 1, 2, 3
MAX_LISTED = 20  # bad rows `kfx predict` lists one by one; the rest are counted
KFP_LOCAL = "kfp-local"
WRITING = ("run", "schedule", "compile")  # commands that write into the home


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="kfx", description=__doc__.split("\n")[0])
    parser.add_argument("--home", help="state directory (default: $KFX_HOME or ./kfx_home)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    tasks = sub.add_parser("tasks", help="list registered tasks")
    tasks.add_argument("--json", action="store_true", help="print JSON")
    tasks.set_defaults(func=cmd_tasks)

    shaping = _pipeline_options()
    run = sub.add_parser("run", help="run a task's pipeline", parents=[shaping])
    run.add_argument("task", nargs="?", help="registered task (omit with --data/--label)")
    run.add_argument("--data", metavar="FILE.csv", help="CSV to train on (a new task with --label)")
    run.add_argument("--label", metavar="COLUMN", help="label column of --data; registers a task")
    run.add_argument("--name", help="name of the --data task (default: the file's stem)")
    run.add_argument("--threshold", type=float, help="Evaluator threshold for the gating metric")
    run.add_argument(
        "--runner",
        choices=("local", "beam", KFP_LOCAL),
        default="local",
        help=f"{KFP_LOCAL}: compile for Kubeflow and execute the YAML with kfp.local",
    )
    run.add_argument("--no-cache", action="store_true", help="re-run every component")
    run.add_argument(
        "--accept-drift",
        action="store_true",
        help="train on a new span even if its distribution moved beyond the schema's thresholds",
    )
    run.add_argument(
        "--wait",
        action="store_true",
        help="if a run of the same task is running in this home, start when it ends",
    )
    run.add_argument(
        "--env",
        metavar="ENV_ID",
        help="RL tasks: another discrete-action gymnasium env, e.g. Acrobot-v1",
    )
    run.add_argument(
        "--eval-episodes",
        type=_positive,
        metavar="N",
        help="RL tasks: greedy evaluation episodes (default 100)",
    )
    run.add_argument("--json", action="store_true", help="last stdout line: a JSON summary")
    run.add_argument("-v", "--verbose", action="store_true", help="show TFX/Beam/TF logs")
    run.set_defaults(func=cmd_run)

    predict = sub.add_parser("predict", help="predict CSV rows with the latest pushed model")
    predict.add_argument("task")
    predict.add_argument("--input", required=True, metavar="FILE.csv")
    predict.add_argument("--output", metavar="FILE.csv", help="default: standard output")
    predict.add_argument(
        "--strict",
        action="store_true",
        help="refuse the whole file at its first bad row (default: predict the others)",
    )
    predict.set_defaults(func=cmd_predict)

    runs = sub.add_parser("runs", help="past runs recorded in MLMD, newest first")
    runs.add_argument("task", nargs="?", help="one task (default: all)")
    runs.add_argument("--json", action="store_true", help="print JSON (oldest first)")
    runs.set_defaults(func=cmd_runs)
    cli_inspect.add_commands(sub)
    cli_serve.add_command(sub)

    cluster = _cluster_options()
    compile_ = sub.add_parser(
        "compile", help="compile for Kubeflow Pipelines", parents=[shaping, cluster]
    )
    compile_.add_argument("task")
    compile_.add_argument(
        "--target",
        choices=("kubeflow", "vertex"),
        default="kubeflow",
        help="kubeflow: open-source Kubeflow Pipelines v2; vertex: Vertex AI Pipelines",
    )
    compile_.add_argument(
        "-o", "--output", metavar="FILE.yaml", help="default: HOME/compiled/TASK.yaml"
    )
    compile_.set_defaults(func=cmd_compile)

    submit = sub.add_parser(
        "submit", help="compile, upload and start a run on KFP", parents=[shaping, cluster]
    )
    submit.add_argument("task")
    submit.add_argument(
        "--host", required=True, help="KFP API endpoint, e.g. http://localhost:8080"
    )
    submit.add_argument("--experiment", default="kfx")
    submit.add_argument("--run-name")
    submit.set_defaults(func=cmd_submit)

    schedule = sub.add_parser(
        "schedule",
        help="scheduled retraining on KFP, or on this machine with --local",
        parents=[shaping, cluster],
    )
    schedule.add_argument("task", nargs="?")
    schedule.add_argument("--cron", help='KFP 6-field cron, e.g. "0 0 3 * * *"')
    schedule.add_argument("--host", help="KFP API endpoint")
    schedule.add_argument("--name", help="schedule name (default: kfx-TASK-retrain)")
    schedule.add_argument("--experiment", default="kfx")
    schedule.add_argument("--list", action="store_true", help="list schedules")
    schedule.add_argument(
        "--delete", metavar="NAME", help="delete a schedule (a TASK with --local)"
    )
    schedule.add_argument("--local", action="store_true", help="a crontab entry on this machine")
    schedule.add_argument("--every", default="1d", help="--local period: Nh, 1d or 1w")
    schedule.add_argument("--print", action="store_true", help="--local: print, do not install")
    schedule.set_defaults(func=cmd_schedule)
    return parser


def _pipeline_options() -> argparse.ArgumentParser:
    """Options that shape the pipeline, shared by run, compile, submit and schedule."""
    shaping = Parser(add_help=False)
    shaping.add_argument("--train-steps", type=_positive, metavar="N")
    shaping.add_argument("--tune", action="store_true", help="search hyper-parameters first")
    shaping.add_argument("--tuner", choices=("random", "bayesian", "hyperband"), default="random")
    shaping.add_argument("--trials", type=_positive, default=6, help="maximum Tuner trials")
    shaping.add_argument(
        "--warm-start", action="store_true", help="start from the latest blessed model"
    )
    shaping.add_argument(
        "--optimize",
        action="store_true",
        help="prune and quantise the blessed model to TFLite; push the .tflite files too "
        "(settings: --set optimize.KEY=VALUE)",
    )
    shaping.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyper-parameter (repeatable)",
    )
    shaping.add_argument(
        "--beam-runner",
        default="DirectRunner",
        help="DirectRunner, DataflowRunner, FlinkRunner or SparkRunner",
    )
    shaping.add_argument(
        "--beam-workers",
        type=_positive,
        default=1,
        help="DirectRunner processes (multi_processing when > 1)",
    )
    shaping.add_argument(
        "--beam-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="passed to Beam as is, e.g. --beam-arg=--region=europe-west4",
    )
    return shaping


def _cluster_options() -> argparse.ArgumentParser:
    """Where a compiled pipeline runs: image, pipeline root and training placement."""
    cluster = Parser(add_help=False)
    cluster.add_argument(
        "--image", help="component image built from infra/Dockerfile (default: $KFX_IMAGE)"
    )
    cluster.add_argument(
        "--pipeline-root",
        default=None,
        help="remote root for artifacts, data and models (default: "
        "$KFX_PIPELINE_ROOT or gs://kfx-pipelines)",
    )
    cluster.add_argument(
        "--accelerator", metavar="TYPE:COUNT", help="train on GPUs, e.g. nvidia-tesla-t4:1"
    )
    cluster.add_argument("--tpu", metavar="VERSION:CHIPS", help="train on a TPU slice, e.g. v5e:4")
    cluster.add_argument(
        "--source-model",
        metavar="URI",
        help="tasks built on another task's model (cartpole_dt, transfer, distill): its pushed "
        "model directory",
    )
    return cluster


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _overrides(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TaskError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set learning_rate=0.003")
        result[key.strip()] = value.strip()
    return result


def _settings(args, cache: bool = True):
    """The shared pipeline options as `api.Settings`."""
    from pipelines import api

    return api.Settings(
        train_steps=args.train_steps,
        tune=args.tune,
        tuner=args.tuner,
        trials=args.trials,
        warm_start=args.warm_start,
        optimize=args.optimize,
        overrides=_overrides(args.set),
        cache=cache,
        eval_episodes=getattr(args, "eval_episodes", None),
        beam_runner=args.beam_runner,
        beam_workers=args.beam_workers,
        beam_args=tuple(args.beam_arg),
        wait=getattr(args, "wait", False),
        accept_drift=getattr(args, "accept_drift", False),
    )


def _compile(args, home: Home, spec) -> Path:
    """Compiles the task for Kubeflow into a two-document YAML; returns its path."""
    from pipelines import api, kubeflow

    image = args.image or os.environ.get("KFX_IMAGE")
    if not image:
        raise TaskError("--image IMAGE (or $KFX_IMAGE): the image built from infra/Dockerfile")
    root = (
        args.pipeline_root or os.environ.get("KFX_PIPELINE_ROOT") or kubeflow.DEFAULT_PIPELINE_ROOT
    )
    compiled = api.compile_task(
        home,
        spec,
        _settings(args),
        image,
        root,
        accelerator=args.accelerator,
        tpu=args.tpu,
        source_model=args.source_model,
        output=getattr(args, "output", None),
        target=getattr(args, "target", "kubeflow"),
    )
    console.compiled(spec.name, compiled)
    return compiled.path


def cmd_compile(args) -> int:
    """`kfx compile`: the pipeline as a KFP-uploadable YAML (PipelineSpec + PlatformSpec)."""
    from pipelines import tasks

    home = Home.resolve(args.home)
    print(_compile(args, home, tasks.get(args.task, home)))
    return 0


def cmd_submit(args) -> int:
    """`kfx submit`: compile, upload (new version if the pipeline exists) and start a run."""
    from pipelines import kfp_api, tasks

    home = Home.resolve(args.home)
    spec = tasks.get(args.task, home)
    package = _compile(args, home, spec)
    result = kfp_api.submit(package, args.host, f"kfx-{spec.name}", args.experiment, args.run_name)
    print(json.dumps(result))
    return 0


def cmd_schedule(args) -> int:
    """`kfx schedule`: recurring runs on KFP (idempotent by name) or a local crontab entry."""
    from pipelines import kfp_api, schedule, tasks

    home = Home.resolve(args.home)
    if args.local:
        if args.list:
            print("\n".join(schedule.entries(home)))
            return 0
        task = args.task or args.delete
        if not task:
            raise TaskError("name a TASK: kfx schedule TASK --local --every 1d")
        spec = tasks.get(task, home)
        if args.delete:
            if not schedule.remove(home, spec.name):
                raise TaskError(f"no local schedule for {spec.name!r} in {home.root}")
            console.info(f"removed the local schedule of {spec.name}")
            return 0
        from pipelines import api

        run_args = api.scheduled_run(home, spec, _settings(args))
        line = schedule.entry(home, spec.name, args.every, run_args)
        print(line if args.print else schedule.install(home, spec.name, args.every, run_args))
        return 0
    if not args.host:
        raise TaskError("--host URL of the KFP API (or --local for this machine)")
    if args.list:
        print(json.dumps(kfp_api.list_schedules(args.host, args.experiment)))
        return 0
    if args.delete:
        print(json.dumps(kfp_api.delete_schedule(args.host, args.delete, args.experiment)))
        return 0
    if not args.task or not args.cron:
        raise TaskError('give a TASK and --cron, e.g. kfx schedule penguin --cron "0 0 3 * * *"')
    spec = tasks.get(args.task, home)
    package = _compile(args, home, spec)
    result = kfp_api.schedule(
        package,
        args.host,
        f"kfx-{spec.name}",
        args.name or f"kfx-{spec.name}-retrain",
        args.cron,
        args.experiment,
    )
    print(json.dumps(result))
    return 0


def cmd_tasks(args) -> int:
    """`kfx tasks`: every registered task."""
    from pipelines import tasks

    console.tasks(tasks.all_tasks(Home.resolve(args.home)), args.json)
    return 0


def cmd_run(args) -> int:
    """`kfx run`: stage data, run the pipeline with progress, print the summary."""
    from pipelines import api, local

    home = Home.resolve(args.home)
    if args.runner == KFP_LOCAL:
        return _run_kfp_local(args, home)

    progress = console.Progress(home)

    def started(spec, run_id):
        progress.begin(spec.name, run_id)
        console.info(f"{spec.name}: run {run_id} ({args.runner} runner, home {home.root})")

    result = api.run_task(
        home,
        args.task,
        _settings(args, cache=not args.no_cache),
        data=args.data,
        label=args.label,
        name=args.name,
        threshold=args.threshold,
        env=args.env,
        runner=args.runner,
        progress=progress,
        verbose=args.verbose,
        on_start=started,
    )
    console.run_result(result, local.log_file(home, result.spec.name, result.run_id))
    if args.json:
        print(json.dumps(result.to_json()))
    return {api.OK: 0, api.INVALID_DATA: EXIT_INVALID_DATA}.get(result.outcome, EXIT_FAILED)


def _run_kfp_local(args, home: Home) -> int:
    """`kfx run TASK --runner kfp-local`: the compiled Kubeflow YAML, executed by kfp.local."""
    import time

    from pipelines import api

    asked = {"--label": args.label, "--name": args.name, "--env": args.env}
    given = [flag for flag, value in asked.items() if value is not None]
    if given or not args.task:
        refused = ", ".join(given) or "no TASK"
        raise TaskError(
            f"--runner {KFP_LOCAL} runs a registered task as compiled ({refused}): register "
            f"it with a local run first, then kfx run TASK --runner {KFP_LOCAL} [--data FILE]"
        )
    started = time.monotonic()
    console.info(f"{args.task}: compiling for Kubeflow and running it with kfp.local")
    result = api.run_kfp_local(
        home,
        args.task,
        _settings(args, cache=not args.no_cache),
        data=args.data,
        threshold=args.threshold,
        progress=console.kfp_task,
        verbose=args.verbose,
    )
    console.kfp_local_result(result, time.monotonic() - started)
    if args.json:
        print(json.dumps(result.to_json()))
    if result.failed == ids.ANOMALY_GATE:
        return EXIT_INVALID_DATA
    return EXIT_FAILED if result.failed else 0


def cmd_predict(args) -> int:
    """`kfx predict`: CSV rows through the latest pushed model."""
    from pipelines import predict, tasks

    home = Home.resolve(args.home)
    spec = tasks.get(args.task, home)
    if args.output and not Path(args.output).resolve().parent.is_dir():
        raise TaskError(f"--output {args.output}: its folder does not exist; create it first")
    bad: dict[int, str] | None = None if args.strict else {}
    frame = predict.predict(home, spec, args.input, bad=bad)
    if bad:
        console.error(
            f"{args.input}: {len(bad)} of {len(frame)} rows could not be predicted (their "
            "prediction cells are left empty); fix them, or pass --strict to refuse the file"
        )
        for row in sorted(bad)[:MAX_LISTED]:
            console.error(bad[row])
        if len(bad) > MAX_LISTED:
            console.error(f"... and {len(bad) - MAX_LISTED} more rows")
        if len(bad) == len(frame):
            return EXIT_USAGE  # nothing was predicted
    if args.output:
        frame.to_csv(args.output, index=False)
        console.info(f"wrote {len(frame)} predictions to {args.output}")
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


def cmd_runs(args) -> int:
    """`kfx runs`: past runs from MLMD."""
    from pipelines import metadata, tasks

    home = Home.resolve(args.home)
    specs = [tasks.get(args.task, home)] if args.task else tasks.all_tasks(home)
    found = [run for spec in specs for run in metadata.runs(home, spec.name, spec)]
    if args.json:
        print(json.dumps([dataclasses.asdict(r) | {"state": r.state} for r in found]))
    else:
        console.runs(sorted(found, key=lambda r: r.started, reverse=True), many=not args.task)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kfx` console script."""
    args = _parser().parse_args(argv)
    if not getattr(args, "verbose", False):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads
        console.quiet()
    try:
        Home.resolve(args.home).check(write=args.command in WRITING)
        return args.func(args)
    except (TaskError, HomeBusy, HomeUnusable) as err:
        console.error(str(err))
        return EXIT_USAGE
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as err:
        # A path the user gave (an --output folder, say); components' errors never get here.
        console.error(f"{err.filename or 'a file'}: {err.strerror}; check the path and try again")
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
