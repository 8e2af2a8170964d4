#!/usr/bin/env python3
"""Builds the test binaries with cargo and runs them several at a time (`make test`).

    python3 tests/harness/run_tests.py [--jobs N] [--side COMMAND]... [CARGO TEST ARGS...]
        [-- TEST BINARY ARGS...]

`cargo test` runs one test binary after another, and most of ours spend their time waiting
for a BGP peer (a connect delay, a hold timer, a quiet period), not computing. This runner
runs N binaries at once (default 3), each in a network namespace of its own (`unshare -n`:
its own loopback, so two binaries can use the same 127.x addresses and ports) and a mount
namespace where /run/bgpinject, the daemon's default control-socket directory, is a fresh
private directory. A binary sees the same machine otherwise: the tests, their peers and their
checks are unchanged, and every test of every binary runs.

`--side COMMAND` runs a shell command alongside, in this namespace, once the binaries are
built (`make test` builds the static binaries and runs clippy that way, under `nice`, on the
CPU time the tests leave while they wait); it counts as a failure like a binary.

Each binary's output is printed whole when it ends (cargo's order does not matter: a binary's
tests never depend on another's). The runner exits 1 when a binary fails, after running all of
them, and names the failures. Without namespaces (not root, no `unshare`) it runs the binaries
one at a time in this namespace, as `cargo test` would, and says so.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The binaries that take longest, started first so that they do not end up alone at the end
# (measured with /usr/bin/time per binary; the rest take well under 20 s each).
SLOW_FIRST = [
    "exabgp_api",
    "scale",
    "session_bird",
    "exabgp_same_routes",
    "session_robustness",
    "api_programs",
    "session_attacks",
    "interop_matrix",
    "flowspec_guard",
    "interop_selftest",
    "helper_hostile",
    "decode_cli",
]

# The binaries that keep both cores busy (a million routes through a debug build and BIRD):
# never two of them at once, or one's peers miss the other's timeouts.
HEAVY = {"scale", "session_bird"}

# One namespace per binary: a loopback that is up, and a private, empty /run/bgpinject
# (mode 0755, as bgpinject makes it) so that a daemon started without --control by one binary
# never answers another's `bgpinject ctl`.
ISOLATE = (
    "ip link set lo up && mkdir -p /run/bgpinject && "
    "mount -t tmpfs -o mode=0755,size=1m bgpinject-test /run/bgpinject && exec \"$@\""
)


def split_args(argv):
    jobs = int(os.environ.get("TEST_JOBS", "3"))
    cargo, binary, side = [], [], []
    rest = list(argv)
    if "--" in rest:
        i = rest.index("--")
        rest, binary = rest[:i], rest[i + 1:]
    it = iter(rest)
    for a in it:
        if a == "--jobs":
            jobs = int(next(it))
        elif a.startswith("--jobs="):
            jobs = int(a.split("=", 1)[1])
        elif a == "--side":
            side.append(next(it))
        else:
            cargo.append(a)
    return max(jobs, 1), cargo, binary, side


def build(cargo_args):
    """Builds every test binary; returns [(label, name, executable)] in cargo's order."""
    cmd = ["cargo", "test", "--no-run", "--message-format=json-render-diagnostics"] + cargo_args
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    binaries = []
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg["profile"]["test"]:
            continue
        target = msg["target"]
        src = os.path.relpath(target["src_path"], ROOT)
        label = src if "test" in target["kind"] else f"unittests {src}"
        binaries.append((label, target["name"], msg["executable"]))
    if proc.returncode != 0:
        sys.exit(proc.returncode)
    return binaries


def namespaces_work():
    if os.geteuid() != 0:
        return False
    try:
        r = subprocess.run(["unshare", "-n", "-m", "sh", "-c", ISOLATE, "sh", "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return False
    return r.returncode == 0


def order(binaries):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    return sorted(binaries, key=lambda b: rank.get(b[1], len(rank)))


def stop_all(running):
    """Ends what is still running (each in a process group of its own) when the runner stops
    early: interrupted, or its output closed."""
    for entry in running:
        proc = entry[2]
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 10
    for entry in running:
        proc = entry[2]
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def interrupted(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run(jobs, pending, running, results, binary_args, env, isolated, start):
    """Starts binaries as slots free up and prints each one's output when it ends."""
    last_note = start
    while pending or running:
        while sum(1 for entry in running if entry[1] is not None) < jobs:
            heavy_running = any(name in HEAVY for _l, name, _p, _f, _b in running)
            ready = [b for b in pending if not (heavy_running and b[1] in HEAVY)]
            if not ready:
                break
            label, name, exe = ready[0]
            pending.remove(ready[0])
            log = tempfile.TemporaryFile(mode="w+b")
            cmd = [exe] + binary_args
            if isolated:
                cmd = ["unshare", "-n", "-m", "sh", "-c", ISOLATE, "sh"] + cmd
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            running.append((label, name, proc, log, time.monotonic()))
        time.sleep(0.1)
        for entry in list(running):
            label, _name, proc, log, began = entry
            rc = proc.poll()
            if rc is None:
                continue
            running.remove(entry)
            seconds = time.monotonic() - began
            results.append((label, seconds, rc))
            log.seek(0)
            out = sys.stdout.buffer
            out.write(f"\n     Running {label} ({seconds:.1f} s, "
                      f"{'ok' if rc == 0 else f'FAILED, exit {rc}'})\n".encode())
            out.write(log.read())
            out.flush()
            log.close()
        now = time.monotonic()
        if running and now - last_note >= 60:
            last_note = now
            names = ", ".join(f"{label} ({now - began:.0f} s)"
                              for label, _n, _p, _l, began in running)
            print(f"run_tests: still running: {names}", flush=True)


def main():
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    jobs, cargo_args, binary_args, side = split_args(sys.argv[1:])
    binaries = order(build(cargo_args))
    isolated = namespaces_work()
    if not isolated:
        jobs = 1
        print("run_tests: no network namespaces here (needs root and unshare): "
              "running the test binaries one at a time", flush=True)
    print(f"run_tests: {len(binaries)} test binaries, {jobs} at a time", flush=True)

    env = dict(os.environ)
    # What cargo sets for a test binary it runs.
    env.setdefault("CARGO_MANIFEST_DIR", ROOT)
    env.setdefault("CARGO_PKG_NAME", "bgpinject")

    start = time.monotonic()
    pending = list(binaries)
    running = []  # (label, name, process, log file, started)
    results = []  # (label, seconds, returncode)
    try:
        for command in side:
            log = tempfile.TemporaryFile(mode="w+b")
            proc = subprocess.Popen(["sh", "-c", command], cwd=ROOT,
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            # Not counted in --jobs: side commands are expected to run under `nice`.
            running.append((command, None, proc, log, time.monotonic()))
        run(jobs, pending, running, results, binary_args, env, isolated, start)
    except BaseException:
        stop_all(running)
        raise

    total = time.monotonic() - start
    print(f"\nrun_tests: {len(binaries)} test binaries and {len(side)} side commands "
          f"in {total:.0f} s; slowest:")
    for label, seconds, _rc in sorted(results, key=lambda r: -r[1])[:8]:
        print(f"    {seconds:6.1f} s  {label}")
    failed = [label for label, _s, rc in results if rc != 0]
    if failed:
        print("run_tests: FAILED: " + ", ".join(failed))
        sys.exit(1)
    print("run_tests: every test binary and side command passed")


if __name__ == "__main__":
    main()
