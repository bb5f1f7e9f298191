"""`kfx serve TASK`: the task's newest pushed model over TensorFlow Serving's REST API."""

from __future__ import annotations

import signal
import sys

from pipelines import console
from pipelines.cli_inspect import _port
from pipelines.home import Home


def add_command(sub) -> None:
    """Adds `serve` to the `kfx` subcommands."""
    from pipelines import serve_http

    serve = sub.add_parser(
        "serve", help="serve a task's newest pushed model (TF Serving's REST API)"
    )
    serve.add_argument("task")
    serve.add_argument("--port", type=_port, default=serve_http.DEFAULT_PORT, help="0: any")
    serve.add_argument("--host", default="127.0.0.1", help="default: loopback only")
    serve.add_argument(
        "--poll", type=float, default=2.0, metavar="SECONDS", help="how often to look for pushes"
    )
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    """Serves until Ctrl-C or SIGTERM; a newer push is swapped in once it loads and answers."""
    from pipelines import serve_http, tasks

    home = Home.resolve(args.home)
    spec = tasks.get(args.task, home)

    def ready(url, version):
        print(f"serving {spec.name} version {version.number} at {url} (Ctrl-C stops it)")
        sys.stdout.flush()

    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        serve_http.serve(home, spec, args.host, args.port, args.poll, ready, console.info)
    except KeyboardInterrupt:
        pass
    return 0
