# Two commands do everything: `make demo` and `make test` (both set up .venv first).
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.kfx-setup

.PHONY: setup demo test test-unit bench soak lint image clean

# The venv is rebuilt only when the lock file, the project metadata or the setup script change.
$(STAMP): requirements.lock pyproject.toml infra/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash infra/setup.sh
	touch $@

setup: $(STAMP)

demo: setup
	$(VENV)/bin/kfx run penguin

# Two workers: most of a pipeline run is one busy core (process start-up, Beam's DirectRunner),
# so two modules at once finish sooner on 2 cores. loadfile: a module runs on one worker,
# so its fixtures (a home with a trained model) are built once.
test: setup
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile tests

test-unit: setup
	$(VENV)/bin/python -m pytest -q tests/unit

# Long robustness runs (kill -9 at many points of real runs); skipped in `make test`.
soak: setup
	KFX_SOAK=1 KFX_SOAK_OUT=BENCHMARKS.md $(VENV)/bin/python -m pytest -q -s tests/soak

bench: setup
	$(VENV)/bin/python tests/bench/bench_pipeline.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_beam.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_rl.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_trainer_options.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_transfer.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_gates.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_fashion.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_vit.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_distill.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_sequence.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_speech.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_seq2seq.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_serve.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_drift.py --out BENCHMARKS.md
	$(VENV)/bin/python tests/bench/bench_determinism.py --out BENCHMARKS.md

# The component image compiled pipelines run (buildah, no Docker daemon; see README).
image:
	bash infra/build_image.sh

lint: setup
	$(VENV)/bin/python -m ruff check pipelines components trainers tests

clean:
	rm -rf $(VENV) kfx_home
