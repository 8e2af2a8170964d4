#!/usr/bin/env python3
"""make bench (scale part): how fast and in how much memory IPv4/IPv6 tables reach a counting
receiver, from bgpinject and from other injectors, on loopback only.

For each size, in one run: bgpinject reading a generated config (time from process start
until the receiver has every route and End-of-RIB, peak RSS, CPU seconds); the sending engine
without the config parser (examples/inject_synthetic); the receiver's own ceiling (a dumb
sender replaying a pre-encoded stream); ExaBGP 4.2 and BIRD 2 as injectors; and 100 neighbors
receiving the same 100k routes. A run over RUN_CAP seconds is stopped and reported as such;
a peer whose rate at a smaller size predicts more than RUN_CAP is not started for the larger
one. Prefixes are documentation/test ranges used as route *prefixes* only; every connection
goes to 127.0.0.1.

Results: one table on stdout, target/bench/scale.csv and target/bench/scale.json.
"""
import csv, json, os, re, shutil, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REL = os.path.join(ROOT, "target", "release")
RECEIVER = os.path.join(REL, "bgp-count-receiver")
BGPINJECT = os.path.join(REL, "bgpinject")
ENGINE = os.path.join(REL, "examples", "inject_synthetic")
OUT = os.path.join(ROOT, "target", "bench")
PORT = 17900
RUN_CAP = float(os.environ.get("RUN_CAP", "120"))
SIZES = [("ipv4", 10_000), ("ipv4", 100_000), ("ipv4", 1_000_000), ("ipv6", 1_000_000)]


def v4(i):
    a = (10 << 24) + i
    return f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/32"


def v6(i):
    return f"2001:db8:{i >> 16:x}:{i & 0xffff:x}::/64"


def prefixes(family, n):
    f = v4 if family == "ipv4" else v6
    return (f(i) for i in range(n))


def next_hop(family):
    return "192.0.2.1" if family == "ipv4" else "2001:db8::1"


def bgpinject_config(path, family, n, neighbors=1):
    nh = next_hop(family)
    with open(path, "w") as f:
        for k in range(neighbors):
            f.write(f"neighbor {peer_address(k, neighbors)} {{\n")
            f.write(f"  router-id 192.0.2.1;\n  local-address 127.0.0.1;\n  local-as 65001;\n"
                    f"  peer-as 65002;\n  connect {PORT};\n  static {{\n")
            for p in prefixes(family, n):
                f.write(f"    route {p} next-hop {nh};\n")
            f.write("  }\n}\n")


def peer_address(k, neighbors):
    """The receiver's address for neighbor k: 127.0.0.1 alone, else 127.0.1.1 and up."""
    return "127.0.0.1" if neighbors == 1 else f"127.0.1.{k + 1}"


def start_receiver(sessions=1, expect=None):
    out = tempfile.NamedTemporaryFile("w+", delete=False, suffix=".json")
    listen = []
    for k in range(sessions):
        listen += ["--listen", f"{peer_address(k, sessions)}:{PORT}"]
    p = subprocess.Popen([RECEIVER] + listen + ["--sessions", str(sessions),
                          "--timeout", str(int(RUN_CAP) + 30)]
                         + (["--expect", str(expect)] if expect else []),
                         stdout=out, stderr=subprocess.DEVNULL)
    time.sleep(0.2)
    return p, out.name


def timed(cmd, env=None, cwd=None):
    """Starts cmd under /usr/bin/time -v; returns (Popen, start time, time's output file)."""
    tv = tempfile.NamedTemporaryFile("w+", delete=False, suffix=".time")
    t0 = time.time()
    p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tv.name] + cmd, env=env, cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    return p, t0, tv.name


def stop(p):
    """Stops the timed command (time's child first, so time writes its report)."""
    try:
        kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
        for k in kids:
            os.kill(int(k), signal.SIGTERM)
        p.wait(timeout=15)
    except Exception:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except Exception:
            pass
        p.wait()


def time_report(path):
    text = open(path).read()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    user = re.search(r"User time \(seconds\): ([\d.]+)", text)
    sys_ = re.search(r"System time \(seconds\): ([\d.]+)", text)
    return ((int(rss.group(1)) / 1024) if rss else None,
            (float(user.group(1)) + float(sys_.group(1))) if user and sys_ else None)


def measure(name, family, n, cmd, sessions=1, env=None, cwd=None, expect=None):
    """Runs one injector against a fresh counting receiver."""
    recv, out = start_receiver(sessions, expect)
    p, t0, tv = timed(cmd, env=env, cwd=cwd)
    try:
        recv.wait(timeout=RUN_CAP)
    except subprocess.TimeoutExpired:
        recv.kill()
        recv.wait()
    stop(p)
    rss, cpu = time_report(tv)
    try:
        r = json.load(open(out))
    except Exception:
        r = {"complete": False}
    got = r.get("ipv4_announced", 0) + r.get("ipv6_announced", 0)
    ok = r.get("complete") and got == n * sessions
    secs = (r["last_eor_at"] - t0) if ok else None
    row = {"injector": name, "family": family, "routes": n, "sessions": sessions,
           "seconds": secs, "rss_mb": rss, "cpu_s": cpu, "received": got,
           "note": "" if ok else f"> {RUN_CAP:.0f} s (stopped)"}
    print(f"  {name:<22} {family} {n:>8} x{sessions:<3} "
          f"{'%.3f s' % secs if secs is not None else row['note']:>14} "
          f"rss {rss or 0:7.1f} MB cpu {cpu or 0:6.2f} s", flush=True)
    return row


def exabgp_cmd(tmp, family, n):
    conf = os.path.join(tmp, "exabgp.conf")
    with open(conf, "w") as f:
        f.write("neighbor 127.0.0.1 {\n router-id 192.0.2.1;\n local-address 127.0.0.1;\n"
                " local-as 65001;\n peer-as 65002;\n static {\n")
        for p in prefixes(family, n):
            f.write(f"  route {p} next-hop {next_hop(family)};\n")
        f.write(" }\n}\n")
    env = dict(os.environ, **{
        "exabgp.daemon.user": "root", "exabgp.daemon.daemonize": "false",
        "exabgp.tcp.bind": "", "exabgp.tcp.port": str(PORT), "exabgp.api.cli": "false",
        "exabgp.log.destination": "stdout", "exabgp.log.level": "CRIT"})
    return ["exabgp", conf], env


def bird_cmd(tmp, family, n):
    conf = os.path.join(tmp, "bird.conf")
    with open(conf, "w") as f:
        f.write("router id 192.0.2.1;\nprotocol device {}\n")
        f.write(f"protocol static generated {{ {family}; \n")
        for p in prefixes(family, n):
            f.write(f"  route {p} blackhole;\n")
        f.write("}\n")
        f.write(f"protocol bgp injector {{ local 127.0.0.1 port {PORT + 99} as 65001; strict bind on;\n"
                f"  neighbor 127.0.0.1 port {PORT} as 65002; multihop; connect delay time 1;\n"
                f"  {family} {{ import none; export filter {{ bgp_next_hop = {next_hop(family)}; accept; }}; }};\n}}\n")
    return ["bird", "-f", "-c", conf, "-s", os.path.join(tmp, "bird.ctl"),
            "-P", os.path.join(tmp, "bird.pid")], None


def version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except Exception as e:
        return f"unavailable ({e})"


def main():
    os.makedirs(OUT, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--bins", "--examples"], cwd=ROOT, check=True)
    rows = []
    rate = {}  # injector -> routes per second at the last size measured
    # The receiver's ceiling.
    for family, n in [("ipv4", 1_000_000)]:
        rows.append(measure("dumb sender (ceiling)", family, n,
                            [RECEIVER, "--replay", f"127.0.0.1:{PORT}", "--routes", str(n)]))
    for family, n in SIZES:
        print(f"{family} {n} routes", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "bgpinject.conf")
            bgpinject_config(conf, family, n)
            cands = [("bgpinject", lambda: ([BGPINJECT, "--log-level", "warn", conf], None)),
                     ("engine (no parser)", lambda: ([ENGINE, f"127.0.0.1:{PORT}", str(n), family], None))]
            if shutil.which("exabgp"):
                cands.append(("exabgp", lambda: exabgp_cmd(tmp, family, n)))
            if shutil.which("bird"):
                cands.append(("bird", lambda: bird_cmd(tmp, family, n)))
            for name, make in cands:
                key = (name, family)
                if key in rate and rate[key] and n / rate[key] > RUN_CAP:
                    row = {"injector": name, "family": family, "routes": n, "sessions": 1,
                           "seconds": None, "rss_mb": None, "cpu_s": None, "received": 0,
                           "note": f"> {RUN_CAP:.0f} s predicted: {rate[key]:.0f} routes/s at the smaller size"}
                    print(f"  {name:<22} skipped: {row['note']}", flush=True)
                    rows.append(row)
                    continue
                cmd, env = make()
                row = measure(name, family, n, cmd, env=env, cwd=tmp)
                rows.append(row)
                rate[key] = (n / row["seconds"]) if row["seconds"] else (n / RUN_CAP / 2)
    # A helper process floods 100k announcements through the process API.
    with tempfile.TemporaryDirectory() as tmp:
        n = 100_000
        conf, helper = os.path.join(tmp, "api.conf"), os.path.join(tmp, "flood.py")
        with open(helper, "w") as f:
            f.write("import sys, time\n"
                    f"for i in range({n}):\n"
                    "    a = 0x0a000000 + i\n"
                    "    sys.stdout.write(f'announce route {a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/32 next-hop 192.0.2.1\\n')\n"
                    "sys.stdout.flush()\n"
                    "time.sleep(3600)\n")
        with open(conf, "w") as f:
            f.write(f"process flood {{ run python3 {helper}; encoder text; }}\n"
                    f"neighbor 127.0.0.1 {{ router-id 192.0.2.1; local-address 127.0.0.1; "
                    f"local-as 65001; peer-as 65002; connect {PORT}; api {{ processes [ flood ]; }} }}\n")
        print(f"process API flood: {n} routes", flush=True)
        rows.append(measure("bgpinject via process API", "ipv4", n,
                            [BGPINJECT, "--log-level", "warn", "--control", "off", conf],
                            expect=n))
    # 100 neighbors, the same 100k routes each.
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "many.conf")
        bgpinject_config(conf, "ipv4", 100_000, neighbors=100)
        print("100 neighbors x 100k routes", flush=True)
        rows.append(measure("bgpinject", "ipv4", 100_000, [BGPINJECT, "--log-level", "warn", conf],
                            sessions=100))
    # Ratios against bgpinject of the same size.
    base = {(r["family"], r["routes"], r["sessions"]): r["seconds"] for r in rows
            if r["injector"] == "bgpinject"}
    for r in rows:
        b = base.get((r["family"], r["routes"], r["sessions"]))
        r["ratio"] = (r["seconds"] / b) if (b and r["seconds"]) else None
    print()
    print(f"{'injector':<22} {'family':<5} {'routes':>8} {'sess':>4} {'seconds':>10} {'x bgpinject':>11} {'RSS MB':>8} {'CPU s':>7}  note")
    for r in rows:
        print(f"{r['injector']:<22} {r['family']:<5} {r['routes']:>8} {r['sessions']:>4} "
              f"{('%.3f' % r['seconds']) if r['seconds'] is not None else '-':>10} "
              f"{('%.2f' % r['ratio']) if r['ratio'] is not None else '-':>11} "
              f"{('%.1f' % r['rss_mb']) if r['rss_mb'] is not None else '-':>8} "
              f"{('%.2f' % r['cpu_s']) if r['cpu_s'] is not None else '-':>7}  {r['note']}")
    meta = {"nproc": os.cpu_count(),
            "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
            "exabgp": version(["exabgp", "--version"]), "bird": version(["bird", "--version"]),
            "run_cap_s": RUN_CAP}
    print(json.dumps(meta))
    with open(os.path.join(OUT, "scale.json"), "w") as f:
        json.dump({"machine": meta, "rows": rows}, f, indent=1)
    with open(os.path.join(OUT, "scale.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
