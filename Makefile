# The two set-up commands are `make demo` and `make test`; each does all set-up on a fresh Debian machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen

.PHONY: demo test bundle screenshots bench catalogs extract-messages update-catalogs config-doc system-deps clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

system-deps:
	@scripts/system-deps.sh test

demo: $(STAMP)
	@scripts/system-deps.sh demo
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
	  echo "No display found: running the demo under xvfb-run (a virtual screen)."; \
	  echo "To see it, run on a desktop session, or: xvfb-run -a -s '-screen 0 1920x1080x24' $(BIN)/kiosk demo --windowed"; \
	  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" $(BIN)/kiosk demo --windowed; \
	else \
	  QT_QPA_PLATFORM= $(BIN)/kiosk demo --windowed; \
	fi

test: system-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# A one-folder PyInstaller bundle in build/dist/kiosk; tests/test_bundle.py builds one and runs its --self-test.
bundle: system-deps $(STAMP)
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath build/dist --workpath build/pyinstaller kiosk.spec
	build/dist/kiosk/kiosk --self-test

screenshots: system-deps $(STAMP)
	$(BIN)/python -m ui.screenshots --out build/screenshots
	$(BIN)/python -m ui.maintenance.screenshots --out build/screenshots/maintenance

bench: system-deps $(STAMP)
	$(BIN)/python benchmarks/run_all.py

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F locales/babel.cfg -k _ -k N_ -k ngettext:1,2 -o locales/kiosk.pot \
	  --project community-kiosk --no-location --sort-output kiosk ui devices

update-catalogs: extract-messages
	$(BIN)/pybabel update -i locales/kiosk.pot -d locales -D kiosk --no-fuzzy-matching

catalogs: $(STAMP)
	$(BIN)/pybabel compile -d locales -D kiosk --statistics

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache

config-doc: $(STAMP)
	$(BIN)/python scripts/config_doc.py
