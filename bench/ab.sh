#!/usr/bin/env bash
# A/B benchmark: zoo (Go/Gorgonia) against the PyTorch reference, on the same
# MNIST files, the same configs and the same thread count, alternating the
# two implementations (and their order) round after round in one run.
#
#   bench/ab.sh [-r ROUNDS] [-s STEPS] [-t THREADS] [-c "ae512 vae"] [-d "float32 float64"]
#
# Prints every run, then a table of medians and the ratio zoo/torch in
# samples/s. Exits 0 with "skipped: python3-torch missing" when PyTorch
# cannot be imported.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=3 STEPS=300 THREADS=2 CONFIGS="ae512 vae" DTYPES="float32 float64"
while getopts "r:s:t:c:d:" o; do
	case $o in
	r) ROUNDS=$OPTARG ;; s) STEPS=$OPTARG ;; t) THREADS=$OPTARG ;;
	c) CONFIGS=$OPTARG ;; d) DTYPES=$OPTARG ;;
	*) echo "usage: $0 [-r ROUNDS] [-s STEPS] [-t THREADS] [-c CONFIGS] [-d DTYPES]" >&2; exit 2 ;;
	esac
done

PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import torch' 2>/dev/null; then
	echo "skipped: python3-torch missing (install it with: apt-get install python3-torch)"
	exit 0
fi

# The same data for both: the folder zoo finds (--data / $AEZOO_DATA / GoMNIST).
DATA=${AEZOO_DATA:-$(go run ./bench/datadir 2>/dev/null || true)}
if [ -z "$DATA" ] || [ ! -d "$DATA" ]; then
	echo "ab.sh: cannot locate the MNIST folder; set AEZOO_DATA" >&2
	exit 1
fi

BIN=$(mktemp -d)/zoo-bench
trap 'rm -rf "$(dirname "$BIN")"' EXIT
go build -o "$BIN" ./bench/cmd/zoo-bench

# Same thread count on both sides: Go's scheduler, torch's intra-op pool,
# OpenMP and OpenBLAS.
export GOMAXPROCS=$THREADS OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

OUT=$(mktemp)
echo "# data: $DATA, threads: $THREADS, steps: $STEPS, rounds: $ROUNDS"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# torch BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
run_zoo() { "$BIN" -config "$1" -dtype "$2" -steps "$STEPS" -data "$DATA"; }
run_torch() { "$PY" bench/torch_ref.py "$1" --dtype "$2" --steps "$STEPS" --threads "$THREADS" --data "$DATA" --json; }
for r in $(seq 1 "$ROUNDS"); do
	for c in $CONFIGS; do
		for d in $DTYPES; do
			if [ $((r % 2)) -eq 1 ]; then order="zoo torch"; else order="torch zoo"; fi
			for impl in $order; do
				line=$(run_$impl "$c" "$d")
				echo "$line" | tee -a "$OUT"
			done
		done
	done
done

"$PY" - "$OUT" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = sorted({(r["config"], r["dtype"]) for r in rows})
print()
print("| config | dtype | zoo ms/step | torch ms/step | zoo samples/s | torch samples/s | zoo/torch | zoo alloc/step | zoo allocs/step |")
print("|---|---|---|---|---|---|---|---|---|")
for c, d in keys:
    z = [r for r in rows if r["impl"] == "zoo" and r["config"] == c and r["dtype"] == d]
    t = [r for r in rows if r["impl"] == "torch" and r["config"] == c and r["dtype"] == d]
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    # samples/s from the median time per step, so that the columns agree
    zs, ts = 1000 * z[0]["batch"] / med(z, "ms_per_step"), 1000 * t[0]["batch"] / med(t, "ms_per_step")
    print("| %s | %s | %.2f | %.2f | %.0f | %.0f | **%.2fx** | %.0f KiB | %.0f |" % (
        c, d, med(z, "ms_per_step"), med(t, "ms_per_step"), zs, ts, zs / ts,
        med(z, "alloc_bytes_per_step") / 1024, med(z, "allocs_per_step")))
print("\n(medians of %d alternating rounds; ratio = zoo samples/s ÷ torch samples/s)" % max(len(rows) // (2 * max(len(keys), 1)), 1))
PYEOF
rm -f "$OUT"
