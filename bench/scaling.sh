#!/usr/bin/env bash
# Thread scaling of the zoo alone (no PyTorch), comparing GEMM split modes
# (internal/blas SplitOptions, $AEZOO_GEMM_SPLIT): at every thread count of
# $THREADS, every config and every mode of $MODES run alternately (the
# modes' order reversed every other round), then a table of medians per
# config, thread count and mode: ms/step, the fraction of the GEMM bound,
# the replayed sgemm rate (GFLOP/s) and the CPU time per step.
#
#   bench/scaling.sh                       # in the repository (builds zoo-bench with go)
#   ./scaling.sh                           # inside the bench/device.sh tarball (no Go)
#
# Environment: THREADS="2 8 16" (spaces or commas) ROUNDS=3 STEPS=200
# CONFIGS="ae512 vae" DTYPE=float32 MODES="off on" — a mode is a split mode
# (off, on, auto) optionally followed by knobs, e.g. "on:mflop=8",
# "auto:min=8", "off:tt=20", "on:spin=50" (AEZOO_GEMM_SPLIT_MIN_MFLOP,
# AEZOO_GEMM_SPLIT_MIN_THREADS, OPENBLAS_THREAD_TIMEOUT, AEZOO_PAR_SPIN_US;
# knobs joined by commas: "on:mflop=8,spin=50"). PROFILE_DIR=DIR writes a CPU profile of
# every first-round run to DIR/CONFIG-THREADS-MODE.prof (read it with
# `go tool pprof bin/zoo-bench FILE` where Go is).
# $ZOO_BENCH names a prebuilt zoo-bench, $AEZOO_DATA the MNIST folder.
set -euo pipefail
cd "$(dirname "$0")"
[ -d bench ] || cd ..   # the repository root or the tarball's folder

THREADS=${THREADS:-2 8 16}
THREADS=${THREADS//,/ }
ROUNDS=${ROUNDS:-3} STEPS=${STEPS:-200} CONFIGS=${CONFIGS:-ae512 vae} DTYPE=${DTYPE:-float32}
MODES=${MODES:-off on}

if [ -n "${ZOO_BENCH:-}" ]; then
	BIN=$ZOO_BENCH
else
	BIN=$(mktemp -d)/zoo-bench
	trap 'rm -rf "$(dirname "$BIN")"' EXIT
	go build -o "$BIN" ./bench/cmd/zoo-bench
fi
DATA=${AEZOO_DATA:-$(command -v go >/dev/null && go run ./bench/datadir 2>/dev/null || true)}
if [ -z "$DATA" ] || [ ! -d "$DATA" ]; then
	echo "scaling.sh: cannot locate the MNIST folder; set AEZOO_DATA" >&2
	exit 1
fi

OUT=$(mktemp)
echo "# $(uname -srm), nproc $(nproc), cpu:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# threads: $THREADS, modes: $MODES, configs: $CONFIGS, $DTYPE, steps: $STEPS, rounds: $ROUNDS"
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-}"
start=$SECONDS
run() { # run MODE CONFIG THREADS ROUND: one zoo-bench, one tagged JSON line
	local mode=${1%%:*} knobs= min= mflop= tt=${OPENBLAS_THREAD_TIMEOUT:-} spin=${AEZOO_PAR_SPIN_US:-} prof=()
	[ "$1" != "$mode" ] && knobs=${1#*:}
	for kv in ${knobs//,/ }; do
		case $kv in
		min=*) min=${kv#min=} ;; mflop=*) mflop=${kv#mflop=} ;; tt=*) tt=${kv#tt=} ;;
		spin=*) spin=${kv#spin=} ;;
		*) echo "scaling.sh: unknown knob $kv in mode $1 (want min=N, mflop=F, tt=N, spin=US)" >&2; exit 2 ;;
		esac
	done
	if [ -n "${PROFILE_DIR:-}" ] && [ "$4" = 1 ]; then
		mkdir -p "$PROFILE_DIR"
		prof=(-cpuprofile "$PROFILE_DIR/$2-$3-${1//[:,=]/_}.prof")
	fi
	local line
	line=$(GOMAXPROCS=$3 OPENBLAS_NUM_THREADS=$3 OMP_NUM_THREADS=$3 AEZOO_GEMM_SPLIT=$mode \
		AEZOO_GEMM_SPLIT_MIN_THREADS=$min AEZOO_GEMM_SPLIT_MIN_MFLOP=$mflop OPENBLAS_THREAD_TIMEOUT=$tt AEZOO_PAR_SPIN_US=$spin \
		"$BIN" -config "$2" -dtype "$DTYPE" -steps "$STEPS" -data "$DATA" -threads "$3" "${prof[@]}")
	echo "{\"mode\":\"$1\",${line#\{}" | tee -a "$OUT"
}
for r in $(seq 1 "$ROUNDS"); do
	order=$MODES
	if [ $((r % 2)) -eq 0 ]; then order=$(echo $MODES | tr ' ' '\n' | tac | tr '\n' ' '); fi
	for T in $THREADS; do
		for c in $CONFIGS; do
			for m in $order; do run "$m" "$c" "$T" "$r"; done
		done
	done
done
echo "# wall $((SECONDS - start)) s"
echo
echo "medians of $ROUNDS rounds; fraction = GEMM bound ÷ step time; GFLOP/s = the step's products replayed alone; speed-up = the mode's ms/step at the first thread count ÷ this row's"
awk -v threads="$THREADS" -v configs="$CONFIGS" -v modes="$MODES" '
function field(s, k,   re, m) {
	re = "\"" k "\":(\"[^\"]*\"|[-0-9.eE+]+)"
	if (!match(s, re)) return ""
	m = substr(s, RSTART + length(k) + 3, RLENGTH - length(k) - 3)
	gsub(/"/, "", m)
	return m
}
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	if (n == 0) return ""
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{
	k = field($0, "config") SUBSEP field($0, "threads") SUBSEP field($0, "mode")
	ms[k] = ms[k] " " field($0, "ms_per_step"); fr[k] = fr[k] " " field($0, "gemm_bound_fraction")
	gf[k] = gf[k] " " field($0, "gemm_gflops"); cpu[k] = cpu[k] " " field($0, "cpu_ms_per_step")
	gemm[k] = field($0, "gemm"); loss[k] = field($0, "final_loss")
}
END {
	printf "| config | threads | mode | gemm | ms/step | speed-up vs first | GEMM-bound fraction | sgemm GFLOP/s | CPU ms/step | final loss |\n"
	printf "|---|---|---|---|---|---|---|---|---|---|\n"
	nc = split(configs, C, " "); nt = split(threads, T, " "); nm = split(modes, M, " ")
	for (i = 1; i <= nc; i++) for (j = 1; j <= nt; j++) for (l = 1; l <= nm; l++) {
		k = C[i] SUBSEP T[j] SUBSEP M[l]
		if (!(k in ms)) continue
		m = median(ms[k]); b = C[i] SUBSEP T[1] SUBSEP M[l]
		x = (b in ms) ? sprintf("%.2fx", median(ms[b]) / m) : ""
		printf "| %s | %s | %s | %s | %.2f | %s | %.0f%% | %.0f | %.1f | %s |\n", C[i], T[j], M[l], gemm[k], m, x,
			100 * median(fr[k]), median(gf[k]), median(cpu[k]), loss[k]
	}
}' "$OUT"
rm -f "$OUT"
