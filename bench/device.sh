#!/usr/bin/env bash
# Packs the zoo's benchmark for a machine that has Python and PyTorch but no
# Go: a static (CGO_ENABLED=0) zoo and zoo-bench, the system OpenBLAS with
# the libraries it needs (Debian libopenblas0: libgfortran, libquadmath),
# MNIST (the GoMNIST module's files), bench/torch_ref.py and bench/ab.sh,
# into aezoo-device.tar.gz in the repository root (gitignored). Prints the
# command to run there; it prints the zoo-vs-PyTorch table at the thread
# counts of $THREADS (default 1,2,4,8,16).
#
#   bash bench/device.sh            # build the tarball
#   tar xzf aezoo-device.tar.gz && cd aezoo-device && ./run.sh
#
# run.sh options (environment): THREADS=1,2,4,8,16 ROUNDS=3 STEPS=300
# CONFIGS="ae512 vae" DTYPES=float32 PYTHON=python3 ZOO_ONLY=1 (no PyTorch).
#
# scaling.sh (no PyTorch needed) compares the GEMM split modes at several
# thread counts (bench/scaling.sh: THREADS="2 8 16" MODES="off on" ROUNDS=3
# STEPS=200 by default):
#   tar xzf aezoo-device.tar.gz && cd aezoo-device && ./scaling.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NAME=aezoo-device
STAGE=$(mktemp -d)/$NAME
trap 'rm -rf "$(dirname "$STAGE")"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/mnist" "$STAGE/bench"

echo "== static binaries (CGO_ENABLED=0; OpenBLAS is loaded at run time)"
CGO_ENABLED=0 go build -trimpath -o "$STAGE/bin/zoo" ./cmd/zoo
CGO_ENABLED=0 go build -trimpath -o "$STAGE/bin/zoo-bench" ./bench/cmd/zoo-bench

echo "== OpenBLAS and its libraries"
find_lib() { # the file behind a soname, from the linker cache
	local f
	f=$(ldconfig -p | awk -v n="$1" '$1 == n && /x86-64/ {print $NF; exit}')
	[ -n "$f" ] && readlink -f "$f"
}
OB=$(find_lib libopenblas.so.0 || true)
if [ -z "$OB" ]; then
	echo "device.sh: no libopenblas.so.0 here; install it: apt-get install libopenblas0" >&2
	exit 1
fi
cp "$OB" "$STAGE/lib/libopenblas.so.0"
for so in $(ldd "$OB" | awk '/=>/ {print $1}'); do
	case $so in libgfortran* | libquadmath* | libgomp*)
		cp "$(find_lib "$so")" "$STAGE/lib/$so" ;;
	esac
done

echo "== MNIST"
DATA=${AEZOO_DATA:-$(go run ./bench/datadir)}
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
	if [ -f "$DATA/$f.gz" ]; then cp "$DATA/$f.gz" "$STAGE/mnist/"; else cp "$DATA/$f" "$STAGE/mnist/"; fi
done

cp bench/ab.sh bench/torch_ref.py bench/scaling.sh "$STAGE/bench/"
cat > "$STAGE/scaling.sh" <<'RUN'
#!/usr/bin/env bash
# The zoo's thread scaling per GEMM split mode on this machine (no Go, no
# PyTorch): see bench/scaling.sh for THREADS, MODES, ROUNDS, STEPS, CONFIGS.
set -euo pipefail
cd "$(dirname "$0")"
export LD_LIBRARY_PATH=$PWD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export AEZOO_DATA=$PWD/mnist ZOO_BENCH=$PWD/bin/zoo-bench
exec bash bench/scaling.sh
RUN
cat > "$STAGE/run.sh" <<'RUN'
#!/usr/bin/env bash
# Prints the zoo-vs-PyTorch table on this machine (no Go needed).
set -euo pipefail
cd "$(dirname "$0")"
export LD_LIBRARY_PATH=$PWD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export AEZOO_DATA=$PWD/mnist ZOO_BENCH=$PWD/bin/zoo-bench
export PYTHON=${PYTHON:-$(command -v python3)}
echo "# machine: $(uname -srm), $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "# zoo GEMM: $(bin/zoo bench ae512 --steps 1 --warmup 1 --json | sed 's/.*"gemm":"\([^"]*\)".*/\1/')"
if "$PYTHON" -c 'import torch' 2>/dev/null; then
	"$PYTHON" -c 'import torch; print("# torch", torch.__version__, "threads", torch.get_num_threads()); print(torch.__config__.show())' | head -20
fi
exec bash bench/ab.sh -r "${ROUNDS:-3}" -s "${STEPS:-300}" -t "${THREADS:-1,2,4,8,16}" -c "${CONFIGS:-ae512 vae}" -d "${DTYPES:-float32}"
RUN
chmod +x "$STAGE/run.sh" "$STAGE/scaling.sh" "$STAGE/bench/ab.sh" "$STAGE/bench/scaling.sh"
tar -C "$(dirname "$STAGE")" -czf "$ROOT/$NAME.tar.gz" "$NAME"
echo
echo "wrote $ROOT/$NAME.tar.gz ($(du -h "$ROOT/$NAME.tar.gz" | cut -f1)); on the target machine (Python + PyTorch, no Go):"
echo "  tar xzf $NAME.tar.gz && cd $NAME && ./run.sh"
echo "  (THREADS=1,2,4,8,16 ROUNDS=3 STEPS=300 by default; ZOO_ONLY=1 without PyTorch)"
echo "  ./scaling.sh   # the zoo alone, GEMM split modes off/on at THREADS=\"2 8 16\" (no PyTorch)"
