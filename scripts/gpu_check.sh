#!/usr/bin/env bash
# The GPU check, one command for the day a CUDA machine is lent (docs/gpu.md). From the repository root:
#
#   bash scripts/gpu_check.sh              # CUDA tests, then scripts/bench_gpu.py -> benchmarks/gpu.md
#   bash scripts/gpu_check.sh --dry-run    # the same steps on the CPU: tests skip, the bench runs --quick
#
# Everything fits in GPU_CHECK_BUDGET_S seconds (default 480: 8 minutes); each step gets a timeout from
# what is left. The log, the report and the tests' JUnit XML go to $OUT when it is set (else out/gpu_check/).
# GPU_CHECK_PYTHON picks the interpreter (default .venv/bin/python; built with `make venv` when missing).
# Exit status: 0 when the tests passed and every bench part ran; 1 otherwise (the summary says which).

set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

DRY_RUN=0
case "${1:-}" in
    --dry-run) DRY_RUN=1 ;;
    "") ;;
    *) echo "usage: bash scripts/gpu_check.sh [--dry-run]" >&2; exit 2 ;;
esac

BUDGET=${GPU_CHECK_BUDGET_S:-480}
PY=${GPU_CHECK_PYTHON:-.venv/bin/python}
DEST=${OUT:-out/gpu_check}
mkdir -p "$DEST" benchmarks
LOG="$DEST/gpu_check.log"
: >"$LOG"
START=$SECONDS
export AUGLOADER_QUIET=1 PYTHONUNBUFFERED=1

log() { echo "[gpu_check +$((SECONDS - START))s] $*" | tee -a "$LOG"; }
left() { echo $((BUDGET - (SECONDS - START))); }
# limit CAP RESERVE: at most CAP seconds, and RESERVE seconds kept back for the steps after this one.
limit() {
    local l=$(($(left) - $2))
    ((l > $1)) && l=$1
    ((l < 0)) && l=0
    echo "$l"
}
run_logged() { "$@" 2>&1 | tee -a "$LOG"; return "${PIPESTATUS[0]}"; }

# ---- 0. the machine and the environment ----------------------------------------------------------------
log "start: budget ${BUDGET}s, dry run ${DRY_RUN}, output in ${DEST}"
if command -v nvidia-smi >/dev/null 2>&1; then
    run_logged nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv,noheader
else
    log "nvidia-smi: not found"
fi
if [[ ! -x "$PY" ]]; then
    log "no $PY: make venv (needs PyPI)"
    run_logged timeout "$(limit 150 300)" make venv || log "make venv failed"
fi
if [[ ! -x "$PY" ]]; then
    log "FAILED: no Python environment ($PY); set GPU_CHECK_PYTHON to one with torch and augloader"
    exit 1
fi
if ! "$PY" -c "import kornia" >/dev/null 2>&1; then
    log "kornia missing: installing the bench extra (pip reaches PyPI only; fails fast without a network)"
    run_logged timeout "$(limit 120 300)" "$PY" -m pip install --disable-pip-version-check -q --timeout 15 --retries 1 \
        -e ".[test,bench]" || log "bench extra not installed: the kornia rows will say failed"
fi
run_logged "$PY" -c "import torch, torchvision; print('torch', torch.__version__, 'CUDA', torch.version.cuda, \
'available', torch.cuda.is_available(), '| torchvision', torchvision.__version__)"

# ---- 1. the CUDA tests -----------------------------------------------------------------------------------
# tests/test_cuda.py and tests/test_transform_contract.py, plus every test file that mentions CUDA or takes
# the `device` fixture (its cuda ids), minus the README/docs runner (every documented block: too long here)
# and the CPU dry run of the bench (step 2 runs the real one).
mapfile -t FILES < <({
    echo tests/test_cuda.py
    echo tests/test_transform_contract.py
    grep -rlE --include='test_*.py' 'cuda|def test_[a-z0-9_]*\(.*\bdevice\b' tests
} | grep -vE 'tests/(test_readme|test_gpu_check_script)\.py' | sort -u)
TEST_LIMIT=$(limit 200 240)
log "step 1: pytest -k cuda over ${#FILES[@]} files, timeout ${TEST_LIMIT}s: ${FILES[*]}"
run_logged timeout -k 10 "$TEST_LIMIT" "$PY" -m pytest "${FILES[@]}" -k cuda -rfEs -p no:cacheprovider \
    --junitxml "$DEST/cuda_tests.xml"
TEST_RC=$?
# pytest's last line, e.g. "3 failed, 120 passed, 900 deselected in 80.1s" (pyproject's addopts has -q).
TEST_LINE=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|deselected|errors?)|no tests ran' "$LOG" | tail -n 1)
((TEST_RC == 124 || TEST_RC == 137)) && TEST_LINE="timed out after ${TEST_LIMIT}s; last: ${TEST_LINE}"
log "step 1 done: exit ${TEST_RC}"

# ---- 2. the benchmark --------------------------------------------------------------------------------------
BENCH_LIMIT=$(limit 420 10)
if ((DRY_RUN)); then
    REPORT="$DEST/gpu_dry_run.md"
    BENCH_ARGS=(--device cpu --quick --out "$REPORT")
else
    REPORT=benchmarks/gpu.md
    BENCH_ARGS=(--device cuda --out "$REPORT")
fi
log "step 2: scripts/bench_gpu.py ${BENCH_ARGS[*]}, timeout ${BENCH_LIMIT}s"
run_logged timeout -k 10 "$BENCH_LIMIT" "$PY" scripts/bench_gpu.py "${BENCH_ARGS[@]}" --budget-s $((BENCH_LIMIT - 20))
BENCH_RC=$?
log "step 2 done: exit ${BENCH_RC}"
[[ -f "$REPORT" && "$REPORT" != "$DEST"/* ]] && cp "$REPORT" "$DEST/"

# ---- summary --------------------------------------------------------------------------------------------------
{
    echo
    echo "==== gpu_check summary ($((SECONDS - START))s of ${BUDGET}s) ===="
    echo "CUDA tests (exit ${TEST_RC}): ${TEST_LINE:-no pytest summary line}"
    echo "bench (exit ${BENCH_RC}): report ${REPORT}"
    if [[ -f "$REPORT" ]]; then
        grep -E '^- goal:|^\*\*DRY RUN' "$REPORT" || true
        grep -E '^\| P[13] augloader eager \|' "$REPORT" | sed 's/^/host syncs: /' || true
        grep -E 'ran EAGER|failed:|skipped:|SYNCED' "$REPORT" | sed 's/^/attention: /' || true
        grep -E '^\| (no augmentation|DeviceAugmenter)' "$REPORT" || true
    else
        echo "no report written"
    fi
    echo "log: ${LOG}"
} | tee -a "$LOG"
((TEST_RC == 0 && BENCH_RC == 0)) || exit 1
