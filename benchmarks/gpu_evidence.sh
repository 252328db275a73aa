#!/usr/bin/env bash
# The loan's one command: the evidence run on a lent GPU, with the device's own python3 (torch 2.11, no dask or
# jupyter), from the checkout's root:
#
#     GRIDBOOK_COMMIT=<commit> BUDGET=520 bash benchmarks/gpu_evidence.sh     # in a `run` of timeout ~580 s
#
# Stage 1 (<= 90 s): environment, a smoke sweep on the device, the calibration; stage 2: sweeps/evidence/ planned
# into the rest of the budget; then the bundle is packed (gridbook.runs.evidence). Under $OUT it writes:
#   evidence.log          everything printed
#   calibration.json      stage 1's measurements (network-steps/s by K and shape, MFU, evaluation s a network)
#   report.json           the plan, the sweep's counts and each stage's wall time
#   bundle.tar.part-NN    the bundle (tar, split in 15 MiB parts: at most 8 files of 16 MiB come back);
#                         here: cat bundle.tar.part-* | tar -x -C evidence/ && mv evidence/bundle evidence/<name>
# The exit status is the evidence run's: 1 when stage 1 failed (fix the cause, rerun once if time is left).
set -uo pipefail
OUT=${OUT:-/tmp/gridbook-evidence-out}
WORK=${WORK:-/tmp/gridbook-evidence}
BUDGET=${BUDGET:-520}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
rm -rf "$WORK"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/evidence.log" 2>&1
# no pipe: worker processes inherit the output, and a pipe would stay open (and the script wait) while any lives
python3 -m gridbook evidence run --device cuda --budget "$BUDGET" --out "$WORK" >> "$OUT/evidence.log" 2>&1
status=$?
pkill -f multiprocessing.spawn 2>/dev/null  # workers of jobs cut at the budget's end
cat "$OUT/evidence.log"
cp "$WORK/calibration.json" "$WORK/report.json" "$OUT/" 2>/dev/null
if [ -f "$WORK/bundle/MANIFEST.json" ]; then
    tar -C "$WORK" -cf - bundle | split -b 15m -d - "$OUT/bundle.tar.part-"
fi
ls -la "$OUT"
exit "$status"
