# Peerwatch developer commands. `make demo` and `make test` set everything up on a fresh machine.
.PHONY: setup demo test lint format bench addon-pwa

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

# The PWA for the add-on's ingress panel, committed in the add-on's build context (the
# Supervisor builds the image from addon/ alone). A test checks it matches pwa/src.
addon-pwa: setup
	@cd pwa && node build.mjs --out ../addon/rootfs/opt/peerwatch/pwa --no-sourcemap
