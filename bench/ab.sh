#!/usr/bin/env bash
# A/B benchmark: zoo (Go/Gorgonia) against the PyTorch reference, on the same
# MNIST files, the same configs and the same thread count, alternating the
# two implementations (and their order) round after round in one run.
#
#   bench/ab.sh [-r ROUNDS] [-s STEPS] [-t THREADS] [-c "ae512 vae"] [-d "float32 float64"]
#
# THREADS is one thread count or a list (-t 1,2,4,8,16): every count runs
# its own alternating rounds. Prints every run, then a table of medians per
# thread count: ms/step, the ratio zoo/torch in samples/s, and the zoo's
# fraction of the GEMM bound (its step's matrix-product time, replayed alone
# at that thread count in the same run, ÷ its step time).
#
# $ZOO_BENCH names a prebuilt zoo-bench binary (bench/device.sh uses it on
# machines without Go); otherwise ab.sh builds one. $AEZOO_DATA names the
# MNIST folder. Exits 0 with "skipped: python3-torch missing" when PyTorch
# cannot be imported.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=3 STEPS=300 THREADS=2 CONFIGS="ae512 vae" DTYPES="float32 float64"
while getopts "r:s:t:c:d:" o; do
	case $o in
	r) ROUNDS=$OPTARG ;; s) STEPS=$OPTARG ;; t) THREADS=${OPTARG//,/ } ;;
	c) CONFIGS=$OPTARG ;; d) DTYPES=$OPTARG ;;
	*) echo "usage: $0 [-r ROUNDS] [-s STEPS] [-t THREADS] [-c CONFIGS] [-d DTYPES]" >&2; exit 2 ;;
	esac
done

PY=${PYTHON:-/usr/bin/python3}
NOTORCH=
if ! "$PY" -c 'import torch' 2>/dev/null; then
	if [ -z "${ZOO_ONLY:-}" ]; then
		echo "skipped: python3-torch missing (install it with: apt-get install python3-torch, or set ZOO_ONLY=1)"
		exit 0
	fi
	NOTORCH=1
fi
[ -n "${ZOO_ONLY:-}" ] && NOTORCH=1

# The same data for both: the folder zoo finds (--data / $AEZOO_DATA / GoMNIST).
DATA=${AEZOO_DATA:-$(command -v go >/dev/null && go run ./bench/datadir 2>/dev/null || true)}
if [ -z "$DATA" ] || [ ! -d "$DATA" ]; then
	echo "ab.sh: cannot locate the MNIST folder; set AEZOO_DATA" >&2
	exit 1
fi

if [ -n "${ZOO_BENCH:-}" ]; then
	BIN=$ZOO_BENCH
else
	BIN=$(mktemp -d)/zoo-bench
	trap 'rm -rf "$(dirname "$BIN")"' EXIT
	go build -o "$BIN" ./bench/cmd/zoo-bench
fi

OUT=$(mktemp)
echo "# data: $DATA, threads: $THREADS, steps: $STEPS, rounds: $ROUNDS"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "$NOTORCH" ]; then
	echo "# torch: $("$PY" -c 'import torch; print(torch.__version__)'), BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)"
fi
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-}"
run_zoo() { "$BIN" -config "$1" -dtype "$2" -steps "$STEPS" -data "$DATA" -threads "$T"; }
run_torch() { "$PY" bench/torch_ref.py "$1" --dtype "$2" --steps "$STEPS" --threads "$T" --data "$DATA" --json; }
for T in $THREADS; do
	# Same thread count on both sides: Go's scheduler, torch's intra-op pool,
	# OpenMP and OpenBLAS.
	export GOMAXPROCS=$T OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T MKL_NUM_THREADS=$T
	for r in $(seq 1 "$ROUNDS"); do
		for c in $CONFIGS; do
			for d in $DTYPES; do
				if [ -n "$NOTORCH" ]; then order="zoo"; elif [ $((r % 2)) -eq 1 ]; then order="zoo torch"; else order="torch zoo"; fi
				for impl in $order; do
					line=$(run_$impl "$c" "$d")
					echo "$line" | tee -a "$OUT"
				done
			done
		done
	done
done

"$PY" - "$OUT" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = sorted({(r["threads"], r["config"], r["dtype"]) for r in rows if r["impl"] == "zoo"})
med = lambda rs, k: statistics.median(r[k] for r in rs) if rs else float("nan")
print()
print("| threads | config | dtype | zoo ms/step | torch ms/step | zoo/torch | zoo GEMM bound ms | zoo sgemm GFLOP/s | zoo fraction of GEMM bound | zoo alloc/step |")
print("|---|---|---|---|---|---|---|---|---|---|")
for th, c, d in keys:
    z = [r for r in rows if r["impl"] == "zoo" and r["threads"] == th and r["config"] == c and r["dtype"] == d]
    t = [r for r in rows if r["impl"] == "torch" and r["threads"] == th and r["config"] == c and r["dtype"] == d]
    zm, tm = med(z, "ms_per_step"), med(t, "ms_per_step")
    # the ratio of samples/s from the median times per step, so that the columns agree
    print("| %d | %s | %s | %.2f | %s | %s | %.2f | %.0f | **%.0f%%** | %.0f KiB |" % (
        th, c, d, zm, "%.2f" % tm if t else "-", "**%.2fx**" % (tm / zm) if t else "-",
        med(z, "gemm_bound_ms"), med(z, "gemm_gflops"), 100 * med(z, "gemm_bound_ms") / zm,
        med(z, "alloc_bytes_per_step") / 1024))
n = max((len([r for r in rows if r["impl"] == "zoo"]) // max(len(keys), 1)), 1)
print("\n(medians of %d alternating rounds; zoo/torch = zoo samples/s ÷ torch samples/s; GEMM fraction = the step's matrix products alone ÷ the step)" % n)
PYEOF
rm -f "$OUT"
