#!/usr/bin/env bash
# Mutation testing of the pure core against the UNIT tests only, one module at a time (docs/testing.md).
#
#   scripts/mutation.sh                 # every core module, in order
#   scripts/mutation.sh detector series # only these (names as in MODULES below)
#
# It works on a fresh clone of the committed HEAD (never on your working tree: mutmut rewrites the sources it copies),
# in $HRVIZ_MUTATION_DIR (default: a new temporary directory, kept so `mutmut browse` / `mutmut show NAME` work there).
# Python: $HRVIZ_MUTATION_PYTHON, else the first `python` on PATH that has mutmut, else a venv made in the clone with
# `pip install -e '.[dev,mutation]'`. Children: $HRVIZ_MUTATION_CHILDREN (default 2). Slow: minutes per module.
# Prints one line per module: killed/total and the score; scores.tsv in the work directory keeps them.
set -euo pipefail

declare -A MODULES=(
    [detector]="hrviz.core.detector.*"
    [reader]="hrviz.core.reader.*"
    [ingest]="hrviz.core.ingest.*"
    [replay]="hrviz.core.replay.*"
    [series]="hrviz.core.series.*"
    [protocol]="hrviz.core.protocol.*"
    [cadence]="hrviz.core.cadence.*"
    [explain]="hrviz.core.explain.*"
    [runs]="hrviz.core.runs.*"
)
ORDER=(detector series runs cadence replay protocol explain ingest reader)

root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=("${ORDER[@]}")
for m in "${wanted[@]}"; do
    [ -n "${MODULES[$m]:-}" ] || { echo "mutation.sh: unknown module '$m' (known: ${ORDER[*]})" >&2; exit 2; }
done

work=${HRVIZ_MUTATION_DIR:-$(mktemp -d -t hrviz-mutation.XXXXXX)}
clone=$work/hrviz
if [ ! -d "$clone/.git" ]; then
    git clone -q "$root" "$clone"
    git -C "$clone" checkout -q "$(git -C "$root" rev-parse HEAD)"
fi
cd "$clone"

py=${HRVIZ_MUTATION_PYTHON:-}
if [ -z "$py" ] && command -v python >/dev/null && python -c 'import mutmut, pytest' 2>/dev/null; then
    py=$(command -v python)
fi
if [ -z "$py" ]; then
    [ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev,mutation]'; }
    py=$PWD/.venv/bin/python
fi
mutmut=("$(dirname "$py")/mutmut")
[ -x "${mutmut[0]}" ] || mutmut=("$py" -c 'import sys; from mutmut.__main__ import cli; sys.exit(cli())')
children=${HRVIZ_MUTATION_CHILDREN:-2}

echo "mutation.sh: $(git rev-parse --short HEAD) in $clone, python $py, $children children"
for m in "${wanted[@]}"; do
    start=$(date +%s)
    "${mutmut[@]}" run --max-children "$children" "${MODULES[$m]}" >"$work/$m.log" 2>&1 || {
        echo "mutation.sh: mutmut failed on $m; see $work/$m.log" >&2; tail -20 "$work/$m.log" >&2; exit 1; }
    # score = killed (a test failed, or it timed out) / every mutant of the module; a mutant no unit test reaches counts
    # as a survivor
    "$py" - "$m" "${MODULES[$m]}" "$(( $(date +%s) - start ))" "$work" <<'EOF'
import fnmatch, json, pathlib, sys
module, pattern, seconds, work = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
codes = {}
for meta in pathlib.Path("mutants").rglob("*.meta"):
    for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
        if fnmatch.fnmatch(name, pattern):
            codes[name] = code
killed = sum(1 for c in codes.values() if c in (1, 3, 36, 37, -24, 24, 152, 255))
survivors = sorted(n for n, c in codes.items() if c in (0, 5, 33) or c is None)
score = killed / len(codes) if codes else 0.0
line = f"{module}\t{killed}/{len(codes)}\t{score:.2f}\t{seconds}s"
print(line)
with open(pathlib.Path(work) / "scores.tsv", "a") as out:
    out.write(line + "\n")
(pathlib.Path(work) / f"{module}.survivors").write_text("".join(n + "\n" for n in survivors))
EOF
done
echo "mutation.sh: survivors listed in $work/*.survivors; inspect one with: cd $clone && mutmut show NAME"
