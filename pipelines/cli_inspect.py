"""The inspection commands of `kfx`: `tensorboard` and `report` (`runs` stays in cli.py)."""

from __future__ import annotations

import argparse
import signal
import sys

from pipelines import console
from pipelines.home import Home


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535 (0: any free one), got {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def add_commands(sub) -> None:
    """Adds `tensorboard` and `report` to the `kfx` subcommands."""
    from pipelines import board

    tensorboard = sub.add_parser(
        "tensorboard", help="serve a task's training runs side by side in TensorBoard"
    )
    tensorboard.add_argument("task")
    tensorboard.add_argument("--port", type=_port, default=board.DEFAULT_PORT, help="0: any")
    tensorboard.add_argument("--host", default=board.DEFAULT_HOST, help="default: loopback")
    tensorboard.add_argument(
        "--runs", type=_count, default=board.DEFAULT_RUNS, metavar="K", help="newest K runs"
    )
    tensorboard.set_defaults(func=cmd_tensorboard)

    report = sub.add_parser("report", help="one run as a self-contained HTML page")
    report.add_argument("task")
    report.add_argument("--run", metavar="RUN_ID", help="default: the newest run")
    report.add_argument("-o", "--output", metavar="FILE.html", default="report.html")
    report.set_defaults(func=cmd_report)


def cmd_tensorboard(args) -> int:
    """`kfx tensorboard`: serves until Ctrl-C (or until TensorBoard exits)."""
    from pipelines import board, tasks

    home = Home.resolve(args.home)
    spec = tasks.get(args.task, home)
    server = board.start(home, spec, args.port, args.host, args.runs)
    for name, path in server.runs:
        console.info(f"  {name}  {path}")
    print(f"TensorBoard for {spec.name}: {server.url} ({len(server.runs)} runs; Ctrl-C stops it)")
    sys.stdout.flush()

    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)  # `kill` stops TensorBoard too
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        server.stop()
        return 0


def cmd_report(args) -> int:
    """`kfx report`: writes the run's page and prints where."""
    from pipelines import report, tasks

    home = Home.resolve(args.home)
    spec = tasks.get(args.task, home)
    path = report.write(home, spec, args.run, args.output)
    print(path.resolve())
    return 0
