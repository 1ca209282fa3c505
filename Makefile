# Peerwatch developer commands. `make demo` and `make test` set everything up on a fresh machine.
.PHONY: setup demo test lint format bench

setup:
	@bash scripts/setup.sh

demo: setup
	@.venv/bin/python scripts/demo.py

test: setup
	@bash scripts/test.sh

lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: setup
	@.venv/bin/ruff check --fix . && .venv/bin/ruff format .

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; .venv/bin/python "$$b" || exit 1; done
