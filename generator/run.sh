#!/usr/bin/env bash
# Generate the low-level client from openapi.yaml (or $2) into $1 (a package folder).
# The one recipe behind `make generate` and `make check-generated`, so both
# produce exactly the same bytes.
set -euo pipefail
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.venv/bin
spec=${2:-$root/openapi.yaml}
# Constructs the generator mishandles silently are refused here, by name.
"$bin/python" "$root/generator/preflight.py" "$spec"
rm -rf "$out"
# The post hooks call `ruff`: put the pinned one first on PATH.
PATH="$bin:$PATH" "$bin/openapi-python-client" generate \
    --path "$spec" \
    --config "$root/generator/config.yaml" \
    --custom-template-path "$root/generator/templates" \
    --meta none --fail-on-warning \
    --output-path "$out" >/dev/null
# --meta none writes no py.typed; the package is typed, so say so (PEP 561).
touch "$out/py.typed"
# Which tools wrote these bytes: check-generated compares this stamp first, so a
# different generator or formatter is reported as such, not as spec drift.
{
    echo "# The tools that wrote this package (generator/run.sh); pinned in pyproject.toml."
    "$bin/python" -c 'import importlib.metadata as m; print("openapi-python-client", m.version("openapi-python-client"))'
    echo "ruff $("$bin/ruff" --version | cut -d' ' -f2)"
} > "$out/GENERATOR"
