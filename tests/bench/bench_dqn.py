"""DQN on CartPole-v1: does every seed reach 475 within 50k steps and 5 minutes?

For each training seed, `trainers.rl.dqn.train` runs with the DQNParams defaults (plus any
`--set key=value`), then the returned (best) network plays `--episodes` greedy episodes on
seeds `--eval-seed`.. (distinct from the training and in-training evaluation seeds). Prints one
row per seed and the load average, since the machine may be shared. Each seed runs in its own
process (`--jobs` at a time; keep 1 for honest wall times).

    .venv/bin/python tests/bench/bench_dqn.py [--seeds 0 1 2 3] [--set gradient_steps=64]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_RETURN, GOAL_STEPS, GOAL_WALL_S = 475.0, 50_000, 300.0


def run_seed(seed: int, overrides: dict, episodes: int, eval_seed: int, log_dir: str | None):
    """Trains and evaluates one seed in this process; returns a JSON-ready row."""
    sys.path.insert(0, str(ROOT))
    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from trainers.common import hparams
    from trainers.rl import dqn, envs

    params = hparams.override(dqn.DQNParams(), {**overrides, "seed": seed})
    result = dqn.train(params, log_dir)

    def policy(obs):
        return result.model(obs, training=False).numpy().argmax(axis=1)

    returns = envs.evaluate(policy, params.env_id, episodes, eval_seed)
    return {
        "seed": seed,
        "steps_to_475": result.steps_to_target,
        "first_eval_475": next((s for s, m in result.history if m >= GOAL_RETURN), None),
        "env_steps": result.env_steps,
        "wall_s": round(result.wall_s, 1),
        "best_eval": result.best_return,
        "best_step": result.best_step,
        "mean": float(returns.mean()),
        "std": float(returns.std()),
        "min": float(returns.min()),
        "load": [round(x, 2) for x in os.getloadavg()],
    }


def spawn(seed: int, args) -> dict:
    """Runs `run_seed` in a child process (fresh TensorFlow state, own memory)."""
    cmd = [sys.executable, __file__, "--child", str(seed), "--episodes", str(args.episodes)]
    cmd += ["--eval-seed", str(args.eval_seed)]
    for item in args.set:
        cmd += ["--set", item]
    if args.log_dir:
        cmd += ["--log-dir", args.log_dir]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        sys.exit(f"seed {seed} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--eval-seed", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--log-dir", help="TensorBoard logs under LOG_DIR/seed-N")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.set)
    if args.child is not None:
        log_dir = os.path.join(args.log_dir, f"seed-{args.child}") if args.log_dir else None
        row = run_seed(args.child, overrides, args.episodes, args.eval_seed, log_dir)
        print(json.dumps(row))
        return 0
    print(
        f"DQN CartPole-v1, overrides {overrides or 'none'}, {args.episodes} eval episodes "
        f"on seeds {args.eval_seed}..{args.eval_seed + args.episodes - 1}",
        flush=True,
    )
    print(
        f"{'seed':>4} {'steps_to_475':>12} {'wall_s':>7} {'best_eval':>9} "
        f"{'mean ± std (100 ep)':>20} {'min':>5}  loadavg"
    )
    rows = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for row in pool.map(lambda s: spawn(s, args), args.seeds):
            rows.append(row)
            print(
                f"{row['seed']:>4} {str(row['steps_to_475']):>12} {row['wall_s']:>7.1f} "
                f"{row['best_eval']:>9.1f} {row['mean']:>11.1f} ± {row['std']:<6.1f} "
                f"{row['min']:>5.0f}  {row['load']}",
                flush=True,
            )
    ok = [
        r["mean"] >= GOAL_RETURN and r["env_steps"] <= GOAL_STEPS and r["wall_s"] <= GOAL_WALL_S
        for r in rows
    ]
    print(
        f"goal (mean >= {GOAL_RETURN:g} over {args.episodes} episodes, <= {GOAL_STEPS} steps, "
        f"<= {GOAL_WALL_S:g} s): {sum(ok)}/{len(ok)} seeds"
    )
    if args.json:
        print(json.dumps(rows))
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
