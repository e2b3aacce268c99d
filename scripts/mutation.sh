#!/usr/bin/env bash
# Mutation testing of the pure core against the UNIT tests only, one module at a time (docs/testing.md).
#
#   scripts/mutation.sh                 # every core module, in order
#   scripts/mutation.sh detector series # only these (names as in MODULES below)
#   scripts/mutation.sh reader.lines     # one file of the reader, with the reader's tests
#
# It works on fresh clones of the committed HEAD (never on your working tree: mutmut rewrites what it copies), one per
# module, in $HRVIZ_MUTATION_DIR (default: a new temporary directory, kept so that `mutmut browse` or
# `mutmut show NAME` can be run in $HRVIZ_MUTATION_DIR/MODULE afterwards). Each module is mutated alone and tested
# with its own unit test files only (TESTS below), the property tests at a tenth of their examples (HRVIZ_MUTATION=1).
# Python: $HRVIZ_MUTATION_PYTHON, else the first `python` on PATH that has mutmut, else a venv made in the work
# directory with `pip install -e '.[dev,mutation]'`. Children: $HRVIZ_MUTATION_CHILDREN (default 2).
# Slow: minutes to tens of minutes per module. Prints one line per module (killed/total, score); scores.tsv keeps them,
# MODULE.survivors lists the mutants no test killed.
set -euo pipefail

declare -A MUTATE=(  # what is mutated (globs for mutmut's only_mutate)
    [detector]="hrviz/core/detector.py"
    [cadence]="hrviz/core/cadence.py"
    [runs]="hrviz/core/runs.py"
    [series]="hrviz/core/series.py"
    [replay]="hrviz/core/replay.py"
    [protocol]="hrviz/core/protocol.py"
    [explain]="hrviz/core/explain.py"
    [ingest]="hrviz/core/ingest.py"
    [live]="hrviz/core/live.py"
    [staging]="hrviz/core/staging.py"
    [reader]="hrviz/core/reader/*"
)
declare -A TESTS=(  # the unit tests that answer for it (globs, expanded in the clone: a new test_reader_*.py joins in)
    [detector]="tests/unit/test_detector*.py"
    [cadence]="tests/unit/test_detector*.py tests/unit/test_cadence*.py"
    [runs]="tests/unit/test_detector*.py tests/unit/test_cadence*.py"
    [series]="tests/unit/test_cadence_runs.py tests/unit/test_reader.py tests/unit/test_reader_order.py"
    [replay]="tests/unit/test_replay*.py"
    [protocol]="tests/unit/test_protocol*.py"
    [explain]="tests/unit/test_explain*.py"
    [ingest]="tests/unit/test_ingest*.py tests/unit/test_live.py"
    [live]="tests/unit/test_live.py tests/unit/test_live_session*.py"  # not test_live_tail.py: the adapters, threads
    [staging]="tests/unit/test_staging*.py tests/unit/test_ingest.py"
    [reader]="tests/unit/test_reader*.py tests/unit/test_formats*.py"
)
ORDER=(detector series runs cadence replay protocol explain ingest live staging reader)

root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=("${ORDER[@]}")
for m in "${wanted[@]}"; do
    # one file of the reader alone, with the reader's tests: reader.lines, reader.parse, ... (faster to iterate on)
    if [[ $m == reader.* && -z "${MUTATE[$m]:-}" && -f "$root/hrviz/core/reader/${m#reader.}.py" ]]; then
        MUTATE[$m]="hrviz/core/reader/${m#reader.}.py"
        TESTS[$m]=${TESTS[reader]}
    fi
    [ -n "${MUTATE[$m]:-}" ] || { echo "mutation.sh: unknown module '$m' (known: ${ORDER[*]})" >&2; exit 2; }
done

work=${HRVIZ_MUTATION_DIR:-$(mktemp -d -t hrviz-mutation.XXXXXX)}
mkdir -p "$work"
head=$(git -C "$root" rev-parse HEAD)
py=${HRVIZ_MUTATION_PYTHON:-}
if [ -z "$py" ] && command -v python >/dev/null && python -c 'import mutmut, pytest, hrviz' 2>/dev/null; then
    py=$(command -v python)
fi
if [ -z "$py" ]; then
    if [ ! -x "$work/venv/bin/python" ]; then
        rm -rf "$work/base" && git clone -q "$root" "$work/base" && git -C "$work/base" checkout -q "$head"
        python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q -e "$work/base[dev,mutation]"
    fi
    py=$work/venv/bin/python
fi
mutmut=("$(dirname "$py")/mutmut")
[ -x "${mutmut[0]}" ] || mutmut=("$py" -c 'import sys; from mutmut.__main__ import cli; sys.exit(cli())')
children=${HRVIZ_MUTATION_CHILDREN:-2}
failed=
export HRVIZ_MUTATION=1
export HRVIZ_PURE_PYTHON=1  # mutants are in the Python code: the C kernels (hrviz/core/speedups.py) stay off

echo "mutation.sh: ${head:0:7} in $work, python $py, $children children"
for m in "${wanted[@]}"; do
    start=$(date +%s)
    clone=$work/$m
    rm -rf "$clone" && git clone -q "$root" "$clone" && git -C "$clone" checkout -q "$head"
    # this module alone, with its own tests: the [tool.mutmut] table of the clone is narrowed
    "$py" - "$clone/pyproject.toml" "${MUTATE[$m]}" "${TESTS[$m]}" <<'PY'
import glob, json, os, re, sys
path, mutate, patterns = sys.argv[1], sys.argv[2], sys.argv[3].split()
os.chdir(os.path.dirname(path))
tests = sorted({name for pattern in patterns for name in glob.glob(pattern)})
text = open(path).read()
text = re.sub(r"(?m)^only_mutate = .*$", "only_mutate = " + json.dumps([mutate]), text)
text = re.sub(r"(?m)^pytest_add_cli_args_test_selection = .*$",
              "pytest_add_cli_args_test_selection = " + json.dumps(tests), text)
open(path, "w").write(text)
PY
    if ! (cd "$clone" && "${mutmut[@]}" run --max-children "$children" >"$work/$m.log" 2>&1); then
        echo "mutation.sh: mutmut failed on $m; see $work/$m.log" >&2
        printf '%s\tfailed\n' "$m" >>"$work/scores.tsv"
        failed=1
        continue
    fi
    # score = killed (a test failed or it timed out) / every mutant; one that no selected test reaches is a survivor
    (cd "$clone" && "$py" - "$m" "$(( $(date +%s) - start ))" "$work" <<'PY'
import json, pathlib, sys
module, seconds, work = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
codes = {}
for meta in pathlib.Path("mutants").rglob("*.meta"):
    codes.update(json.loads(meta.read_text())["exit_code_by_key"])
killed = sum(1 for c in codes.values() if c in (1, 3, 36, 37, -24, 24, 152, 255))
survivors = sorted(n for n, c in codes.items() if c not in (1, 3, 36, 37, -24, 24, 152, 255))
score = killed / len(codes) if codes else 0.0
line = f"{module}\t{killed}/{len(codes)}\t{score:.2f}\t{seconds}s"
print(line)
with open(work / "scores.tsv", "a") as out:
    out.write(line + "\n")
(work / f"{module}.survivors").write_text("".join(n + "\n" for n in survivors))
PY
    )
done
[ -z "${failed:-}" ] || exit 1
echo "mutation.sh: survivors listed in $work/*.survivors; see one with: cd $work/MODULE && mutmut show NAME"
