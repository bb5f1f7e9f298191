"""RL tasks on CartPole-v1: returns, steps and wall time per seed, into BENCHMARKS.md.

Value-based tasks (cartpole_dqn, cartpole_qnet): for each training seed the task's
`train_policy` runs with its defaults (plus any `--set key=value`), then the returned (best)
network plays `--episodes` greedy episodes on seeds `--eval-seed`.. (distinct from the training
and in-training evaluation seeds). cartpole_dt runs through the real pipelines: `kfx run
cartpole_dqn` then `kfx run cartpole_dt --set seed=N` in a fresh home, and reports the
PolicyEvaluator's 100-episode mean. Each seed runs in its own process, one at a time; the load
average is recorded because the machine may be shared.

    .venv/bin/python tests/bench/bench_rl.py [--tasks cartpole_dqn,cartpole_qnet,cartpole_dt]
        [--seeds 0 1 2 3] [--set gradient_steps=64] [--out BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.report import cpu_model, write_section  # noqa: E402

BEGIN, END = "<!-- bench:rl:begin -->", "<!-- bench:rl:end -->"
# Budgets per seed: env steps and wall time; the return goal is the task's gate.
GOALS = {
    "cartpole_dqn": {"steps": 50_000, "wall_s": 300.0},
    "cartpole_qnet": {"steps": 100_000, "wall_s": 300.0},
    "cartpole_dt": {"steps": None, "wall_s": None},
}


def goal(task: str) -> dict:
    """{return (the task's threshold), steps, wall_s} of `task`."""
    from pipelines import tasks

    return {"return": tasks.builtin()[task].threshold, **GOALS[task]}


VALUE_BASED = ("cartpole_dqn", "cartpole_qnet")


def run_seed(task: str, seed: int, overrides: dict, episodes: int, eval_seed: int) -> dict:
    """Trains and evaluates one seed of a value-based task in this process."""
    import importlib

    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from pipelines import tasks
    from trainers.contract import TrainerConfig
    from trainers.rl import envs

    spec = tasks.builtin()[task]
    module = importlib.import_module(spec.model_module)
    config = TrainerConfig(env_id=spec.env_id, hparams={**overrides, "seed": seed})
    result = module.train_policy(config, None, None)

    def policy(obs):
        return result.model(obs, training=False).numpy().argmax(axis=1)

    returns = envs.evaluate(policy, result.env_id, episodes, eval_seed)
    return {
        "seed": seed,
        "steps_to_target": result.steps_to_target,
        "env_steps": result.env_steps,
        "wall_s": round(result.wall_s, 1),
        "best_eval": result.best_return,
        "best_step": result.best_step,
        "mean": float(returns.mean()),
        "std": float(returns.std()),
        "min": float(returns.min()),
        "load": round(os.getloadavg()[0], 1),
    }


def spawn(task: str, seed: int, args) -> dict:
    """Runs `run_seed` in a child process (fresh TensorFlow state, own memory)."""
    cmd = [sys.executable, __file__, "--child", task, str(seed), "--episodes", str(args.episodes)]
    cmd += ["--eval-seed", str(args.eval_seed)]
    for item in args.set:
        cmd += ["--set", item]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        sys.exit(f"{task} seed {seed} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def kfx_json(home: str, *args: str) -> dict:
    """`kfx --home HOME ARGS... --json` in a child process; its JSON summary."""
    cmd = [str(ROOT / ".venv" / "bin" / "kfx"), "--home", home, *args, "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def decision_transformer(seeds, episodes: int) -> list[dict]:
    """cartpole_dqn then cartpole_dt (one DT per seed) through the pipelines in a fresh home."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="kfx-bench-rl-") as home:
        source = kfx_json(home, "run", "cartpole_dqn")
        for seed in seeds:
            started = time.monotonic()
            run = ["run", "cartpole_dt", "--set", f"seed={seed}", "--eval-episodes", str(episodes)]
            summary = kfx_json(home, *run)
            rows.append(
                {
                    "seed": seed,
                    "steps_to_target": None,
                    "env_steps": None,
                    "wall_s": round(time.monotonic() - started, 1),
                    "trainer_s": round(summary["components"].get("Trainer", 0.0), 1),
                    "best_eval": None,
                    "mean": summary["value"],
                    "std": _evaluation_std(home, summary),
                    "min": None,
                    "blessed": summary["blessed"],
                    "source_return": source["value"],
                    "data": _trajectory_stats(home, summary),
                    "load": round(os.getloadavg()[0], 1),
                }
            )
    return rows


def _trajectory_stats(home: str, summary: dict) -> dict:
    """TrajectoryGen's trajectory_stats.json of the run (episodes, epsilons, returns)."""
    from components.trajectory_gen import STATS_FILE
    from pipelines import ids
    from tests.bench.runs import node_artifact

    examples = node_artifact(Path(home), "cartpole_dt", summary["run_id"], [ids.TRAJECTORY_GEN])
    return json.loads(Path(examples.uri, STATS_FILE).read_text())


def _evaluation_std(home: str, summary: dict) -> float | None:
    reports = Path(home, "pipelines", "cartpole_dt", "PolicyEvaluator", "evaluation").glob(
        "*/returns.json"
    )
    newest = max(reports, key=lambda p: int(p.parent.name), default=None)
    return json.loads(newest.read_text())["std_return"] if newest else None


def _fmt(value, spec: str = "") -> str:
    return "–" if value is None else format(value, spec)


def section(results: dict[str, list[dict]], args) -> str:
    """The BENCHMARKS.md section."""
    seeds = " ".join(map(str, args.seeds))
    lines = [
        BEGIN,
        "## RL on CartPole-v1: DQN, online Q-learning, Decision Transformer",
        "",
        f"Command: `.venv/bin/python tests/bench/bench_rl.py --seeds {seeds}` (= a line of "
        f"`make bench`), {args.episodes} greedy evaluation episodes per seed on "
        f"env seeds {args.eval_seed}.. (not used in training), defaults of each task, "
        f"CPU: {cpu_model()}, {os.cpu_count()} cores; `load` = 1-minute load average at the end "
        "of the seed.",
        "",
    ]
    for task, rows in results.items():
        target = goal(task)
        limits = ", ".join(
            f"{k} {'<=' if k != 'return' else '>='} {v:g}" for k, v in target.items() if v
        )
        met = sum(r["mean"] >= target["return"] for r in rows)
        lines += [
            f"**{task}** — goal: {limits}; mean return met on {met}/{len(rows)} seeds",
            "",
            "| seed | steps to target | env steps | wall s | best in-training eval | "
            "mean ± std (100 ep) | min | load |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['seed']} | {_fmt(r['steps_to_target'])} | {_fmt(r['env_steps'])} | "
                f"{r['wall_s']:.1f} | {_fmt(r['best_eval'], '.1f')} | {r['mean']:.1f} ± "
                f"{_fmt(r['std'], '.1f')} | {_fmt(r['min'], '.0f')} | {r['load']} |"
            )
        if task == "cartpole_dt" and rows:
            source, data = rows[0]["source_return"], rows[0]["data"]
            rates = ", ".join(f"{e:g}" for e in data["epsilons"])
            lines += [
                "",
                f"cartpole_dt trained on {data['episodes']} episodes (ε ∈ {{{rates}}}) of the "
                f"pushed cartpole_dqn policy (its own PolicyEvaluator mean: {source:.1f}; the "
                f"data's greedy episodes: {data['by_epsilon']['0']['mean_return']:.1f}),"
                f" conditioned on return 500; wall = the whole `kfx run cartpole_dt` (Trainer "
                f"{', '.join(str(r['trainer_s']) for r in rows)} s).",
            ]
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="cartpole_dqn,cartpole_qnet,cartpole_dt")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--eval-seed", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="write the section into this BENCHMARKS.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    if args.child is not None:
        task, seed = args.child
        print(json.dumps(run_seed(task, int(seed), overrides, args.episodes, args.eval_seed)))
        return 0
    results = {}
    for task in args.tasks.split(","):
        if task in VALUE_BASED:
            results[task] = []
            for seed in args.seeds:
                results[task].append(spawn(task, seed, args))
                print(task, json.dumps(results[task][-1]), flush=True)
        elif task == "cartpole_dt":
            results[task] = decision_transformer(args.seeds[:2], args.episodes)
            print(task, json.dumps(results[task]), flush=True)
        else:
            sys.exit(f"unknown RL task {task!r}; use {', '.join(GOALS)}")
    text = section(results, args)
    print(text)
    if args.out:
        write_section(args.out, BEGIN, END, text)
    met = all(r["mean"] >= goal(t)["return"] for t, rs in results.items() for r in rs)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
