#!/usr/bin/python3
"""Execute Jupyter notebooks headlessly with nbclient and fail on any error.

Each notebook runs in its own folder (GoNB sets GONB_DIR to it), one cell
at a time, under a per-notebook time limit. A notebook fails when a cell
reports an error (a GoNB compile error, a failed `go get`, …) and also when
a cell's stderr shows a runtime panic, a Go fatal error or a non-zero exit
(GoNB reports those only as stderr text, with a successful execute reply,
so nbclient and nbconvert would let them pass):

    panic: | fatal error: | exit status N

Usage: run_notebooks.py [--write] [--timeout SECONDS] [--kernel NAME]
                        [--expect-fail] NOTEBOOK...

--write saves the executed outputs back into each notebook that passed (how
the committed outputs are made). --expect-fail inverts the verdict of every
notebook (the runner's self-test on deliberately broken fixtures).
Exits 1 if any notebook's verdict is wrong, 2 on bad usage.

Debian packages: python3-nbclient, jupyter-client (run with /usr/bin/python3).
"""

import argparse
import os
import re
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

FAIL_PATTERN = re.compile(r"panic: |fatal error: |exit status [0-9]+")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def coalesce_streams(cell):
    """Merges consecutive stream outputs of the same stream (one per write
    otherwise), so that patterns split across writes are seen and saved
    notebooks stay readable."""
    merged = []
    for out in cell.get("outputs", []):
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] += out.get("text", "")
        else:
            merged.append(out)
    cell["outputs"] = merged


def cell_failure(cell):
    """Returns why a cell's outputs show a failure, or None."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return "error output: %s: %s" % (out.get("ename", ""), ANSI.sub("", out.get("evalue", "")).strip()[:2000])
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            text = ANSI.sub("", out.get("text", ""))
            m = FAIL_PATTERN.search(text)
            if m:
                return "stderr matches %r:\n%s" % (m.group(0), text.strip()[-2000:])
    return None


def run_notebook(path, kernel, timeout, write):
    """Executes the notebook at path; returns (failure or None, seconds)."""
    nb = nbformat.read(path, as_version=4)
    folder = os.path.dirname(os.path.abspath(path))
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        allow_errors=True,  # we judge the outputs ourselves, cell by cell
        record_timing=False,  # keep committed notebooks free of timestamps
        resources={"metadata": {"path": folder}},
    )
    start = time.monotonic()
    deadline = start + timeout
    failure = None
    log = tempfile.NamedTemporaryFile(mode="w+", prefix="kernel-", suffix=".log", delete=False)
    try:
        with client.setup_kernel(stderr=log, stdout=log):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    failure = "cell %d not started: the notebook's time limit of %ds is spent" % (index, timeout)
                    break
                client.timeout = max(1, int(left))
                try:
                    client.execute_cell(cell, index)
                except (CellTimeoutError, TimeoutError):
                    failure = "cell %d timed out: the notebook's time limit of %ds is spent" % (index, timeout)
                    break
                except DeadKernelError as e:
                    failure = "cell %d: the kernel died: %s" % (index, e)
                    break
                except CellExecutionError as e:
                    failure = "cell %d: %s" % (index, e)
                    break
                coalesce_streams(cell)
                why = cell_failure(cell)
                if why:
                    failure = "cell %d: %s" % (index, why)
                    break
    except Exception as e:  # kernel start-up problems, …
        failure = failure or "%s: %s" % (type(e).__name__, e)
    seconds = time.monotonic() - start
    log.close()
    if failure:
        with open(log.name, errors="replace") as f:
            tail = f.read()[-3000:]
        if tail.strip():
            failure += "\n--- kernel log (tail) ---\n" + tail
    os.unlink(log.name)
    if write and not failure:
        nbformat.write(nb, path)
    return failure, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--write", action="store_true", help="save executed outputs back into passing notebooks")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per notebook (default 300)")
    ap.add_argument("--kernel", default="gonb")
    ap.add_argument("--expect-fail", action="store_true", help="every notebook must fail (self-test)")
    args = ap.parse_args()

    passed = failed = 0
    for path in args.notebooks:
        if not os.path.isfile(path):
            print("no such notebook: %s" % path, file=sys.stderr)
            return 2
        print("== %s" % path, flush=True)
        failure, seconds = run_notebook(path, args.kernel, args.timeout, args.write)
        if args.expect_fail:
            ok = failure is not None
            verdict = "fails as expected" if ok else "PASSED, but it must fail"
            detail = (failure or "").split("\n", 1)[0]
        else:
            ok = failure is None
            verdict = "ok" if ok else "FAILED"
            detail = failure or ""
        print("   %s in %.1fs%s" % (verdict, seconds, (": " + detail) if detail else ""), flush=True)
        if ok:
            passed += 1
        else:
            failed += 1
    print("notebooks: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
