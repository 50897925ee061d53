# bundlestream: `make run` to use it, `make test` to check it. Every step installs only
# what is missing, so a second run reuses the first one's downloads.
#
# Settings come from BUNDLESTREAM_* environment variables (see README.md); exporting a
# different BUNDLESTREAM_STACK_DIR and ports runs a second stack beside the first.

PYTHON ?= python3
VENV := .venv
BS := $(VENV)/bin/bundlestream
PYTEST_ARGS ?=

.PHONY: install run up down status test lint clean distclean

# Debian packages, the Python environment, then the stack's jars and node packages.
install: $(VENV)/.installed
	$(BS) stack install

$(VENV)/.installed: pyproject.toml
	bash stack/system-packages.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

# Foreground: the stack, the API and the workers; prints the URL; Ctrl-C stops them.
run: install
	$(BS) stack run

# Background: the same, for scripts and benchmarks; `make down` stops it.
up: install
	$(BS) stack up --app

down:
	if [ -x $(BS) ]; then $(BS) stack down; fi

status:
	$(BS) stack status

# Brings the stack up only if it is not running, and then takes it down again;
# the exit status is pytest's.
test: install
	@if $(BS) stack status --quiet; then \
		$(VENV)/bin/pytest $(PYTEST_ARGS); \
	else \
		$(BS) stack up || { $(BS) stack down; exit 1; }; \
		$(VENV)/bin/pytest $(PYTEST_ARGS); status=$$?; \
		$(BS) stack down; exit $$status; \
	fi

# mypy and import-linter read the package as it is installed (bundlestream.api is api/).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	bash stack/import-tree.sh
	cd .typecheck && ../$(VENV)/bin/lint-imports ../pyproject.toml
	cd .typecheck && ../$(VENV)/bin/mypy --config-file ../pyproject.toml

# Stops the stack and removes its data and the tool caches; downloads are kept.
clean: down
	rm -rf $${BUNDLESTREAM_STACK_DIR:-.stack} .pytest_cache .mypy_cache .ruff_cache .hypothesis .typecheck

# Also removes the downloads: the virtualenv, node_modules and the Kafka jar cache.
distclean: clean
	rm -rf $(VENV) stack/node/node_modules $${BUNDLESTREAM_CACHE_DIR:-$$HOME/.cache/bundlestream}
