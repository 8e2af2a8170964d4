#!/usr/bin/env python3
"""make bench (scale part): how fast and in how much memory IPv4/IPv6 tables reach a receiver,
from bgpinject and from other injectors, on loopback only.

For each size, in one run, every injector sends the same table (same prefixes, next hop
192.0.2.1 or 2001:db8::1, AS_PATH [65001]) to two receivers in turn:
  - counter: target/release/bgp-count-receiver, which only counts NLRI; done at End-of-RIB
    (or, for injectors that may send routes after End-of-RIB, once it has counted N);
  - bird: a real BIRD 2 (passive, `import all; export none;`, no kernel protocol); done when
    `show protocols all` says N routes are imported.
Injectors: bgpinject reading a generated config; the sending engine without the config parser
(examples/inject_synthetic); a dumb sender replaying pre-encoded UPDATEs (`bgp-count-receiver
--replay`, IPv4 only: the receiver's ceiling, the best any injector can do into it); ExaBGP 4.2
(static config); BIRD 2 (static protocol); GoBGP (gobgpd fed with `gobgp mrt inject` from an
MRT TABLE_DUMP_V2 file written here). Also: 100k routes announced through bgpinject's process
API, and 100 neighbors inheriting one template of the same 100k routes.

Time: from the injector's first process start until the receiver has every route (and, as
`1st route`, until the first one); peak RSS and CPU seconds from /usr/bin/time -v. A run over RUN_CAP seconds is stopped and reported; a
run that the same injector's figures at a smaller size predict to take over RUN_CAP is not
started. Prefixes and next hops are documentation/test ranges used in routes only; every
connection is on 127.0.0.0/8.

Environment: BGPINJECT (the bgpinject binary to measure, default this tree's release build);
RUN_CAP (seconds, default 120); BENCH_PORT (default 17900; also uses the next 99); SIZES (counter sizes, default
ipv4:10000,ipv4:100000,ipv4:1000000,ipv6:1000000); BIRD_SIZES (BIRD-receiver sizes, default
ipv4:100000,ipv4:1000000,ipv6:1000000; empty for none); INJECTORS (only these, e.g.
bgpinject,gobgp); EXTRA_ROWS (the rows after the size tables, comma-separated, default all;
0 for none): api100k and api1m (100k / 1M routes through the process API, timed from the
helper's first line), neighbors100 and neighbors1000 (100 / 1,000 neighbors inheriting one
template of 100k routes), overlay (one `ctl announce` to 100 neighbors), cron (1M routes in
100 included files, one file of 10,000 routes rewritten, SIGHUP), ipv4-10m (10M IPv4 routes
from bgpinject and from the engine); not by default: bird10m (10M IPv4 routes into BIRD from
bgpinject and from the dumb sender, BIRD's import ceiling, BIRD10M_RUNS times each, default 2,
alternating; medians). One row alone: SIZES= BIRD_SIZES= EXTRA_ROWS=cron.

Results: one table on stdout, target/bench/scale.csv and target/bench/scale.json.
"""
import csv, functools, ipaddress, json, os, re, select, shutil, signal, struct, subprocess
import tempfile, threading, time
from collections import namedtuple

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REL = os.path.join(ROOT, "target", "release")
RECEIVER = os.path.join(REL, "bgp-count-receiver")
# BGPINJECT: another build to measure (an A/B against an older commit), else this tree's.
BGPINJECT = os.environ.get("BGPINJECT") or os.path.join(REL, "bgpinject")
ENGINE = os.path.join(REL, "examples", "inject_synthetic")
OUT = os.path.join(ROOT, "target", "bench")
# Receivers listen here, on 127.0.0.1 (127.0.1.K for the 100 sessions). Anything else on the
# machine that connects to this port lands in a receiver and spoils the run: pick another.
PORT = int(os.environ.get("BENCH_PORT", "17900"))
BIRD_INJECTOR_PORT = PORT + 99  # BIRD as injector listens here (nobody connects)
GOBGP_API_PORT = PORT + 98
RUN_CAP = float(os.environ.get("RUN_CAP", "120"))
BIRD_POLL_S = 0.1


def sizes_from_env(name, default):
    """`ipv4:10000,ipv6:1000000` as [("ipv4", 10000), ("ipv6", 1000000)]."""
    text = os.environ.get(name, default)
    sizes = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        family, n = item.split(":")
        assert family in ("ipv4", "ipv6"), f"{name}: family {family}"
        sizes.append((family, int(n)))
    return sizes


SIZES = sizes_from_env("SIZES", "ipv4:10000,ipv4:100000,ipv4:1000000,ipv6:1000000")
BIRD_SIZES = sizes_from_env("BIRD_SIZES", "ipv4:100000,ipv4:1000000,ipv6:1000000")
# The rows after the size tables, by name (comma-separated; "0" or empty for none).
EXTRA_ROW_NAMES = ["api100k", "neighbors100", "overlay", "cron", "api1m", "neighbors1000",
                   "ipv4-10m", "bird10m"]
# bird10m (10M routes into BIRD, about 3 GB of BIRD and a few minutes) only when asked for.
DEFAULT_EXTRA_ROWS = [r for r in EXTRA_ROW_NAMES if r != "bird10m"]
_extra = os.environ.get("EXTRA_ROWS", ",".join(DEFAULT_EXTRA_ROWS))
EXTRA_ROWS = [] if _extra.strip() in ("", "0") else \
    [r for r in (x.strip() for x in _extra.split(",")) if r]
assert all(r in EXTRA_ROW_NAMES for r in EXTRA_ROWS), \
    f"EXTRA_ROWS: one of {','.join(EXTRA_ROW_NAMES)}"
# Runs of each injector in the bird10m row (its figures are the medians).
BIRD10M_RUNS = int(os.environ.get("BIRD10M_RUNS", "2"))
# Only these injectors (names as in the table, comma-separated); all when unset.
ONLY = set(filter(None, os.environ.get("INJECTORS", "").split(",")))

# What each injector's figures include, printed under the table and kept in the JSON.
NOTES = {
    "bgpinject": "reads a generated config (one neighbor, a static block of N routes).",
    "engine (no parser)": "examples/inject_synthetic: bgpinject's sending engine, routes made in code.",
    "dumb sender (ceiling)": "bgp-count-receiver --replay: IPv4 /32s pre-encoded before connecting, "
                             "written in one go; the best any injector can do into that receiver.",
    "exabgp": "ExaBGP 4.2, static config.",
    "bird": "BIRD 2 as injector: static protocol, export to a BGP protocol (`connect delay "
            "time 1`); its time includes its start-up and connect delay (see `1st route`).",
    "gobgp": "gobgpd fed by `gobgp mrt inject global` from a generated MRT TABLE_DUMP_V2 file, "
             "started as soon as its API answers; time from gobgpd start includes its 5-10 s "
             "first-connect delay (not configurable), as BIRD's includes its connect delay. RSS "
             "and CPU are gobgpd's plus the CLI's. The CLI reads the file from a pipe, in writes "
             "of whole records, held open until the end of the run: gobgp 3.10's CLI drops the "
             "last few hundred paths when it exits right after sending (osrg/gobgp#3044) and "
             "loses its place in the file on a short read.",
    "bgpinject via process API": "N `announce route` lines from a helper process (made before "
                                 "its clock starts, written 10,000 lines at a time); time from "
                                 "the helper's first line until the counter has N prefixes; "
                                 "peak RSS and CPU are bgpinject's own, read from /proc when the "
                                 "counter is done (/usr/bin/time would add the helper's once "
                                 "bgpinject reaps it at shutdown: the Python flood holds about "
                                 "170 MB and 0.6 s of CPU).",
    "bgpinject cron reload": "1M routes in 100 included files; one file of 10,000 rewritten with "
                             "another MED and SIGHUP: time from the signal until the counter has "
                             "the 10,000 re-announced routes; the note compares the reload's peak "
                             "RSS (VmHWM reset before the signal) with the running RSS, and its "
                             "time with a full reload's (the main file edited too, so the whole "
                             "configuration is parsed) in a second run.",
    "x engine": "time over the engine-only time of the same family and size in the same run "
                "(one session, counting receiver); the cron reload and process API rows against "
                "the engine's 1M IPv4.",
    "receiver bird": "BIRD 2.0.12, passive, multihop, `import all; export none;`; polled with "
                     f"`birdc show protocols all` every {BIRD_POLL_S} s, so times are up to one "
                     "poll late.",
}
GOBGP_IPV6_NOTE = ("MRT carries the full RFC 4760 MP_REACH: gobgp 3.10 cannot read the "
                   "RFC 6396 4.3.4 form (osrg/gobgp#2649)")


# ---- The table every injector sends -----------------------------------------------------

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


def peer_address(k, neighbors):
    """The receiver's address for neighbor k: 127.0.0.1 alone, else 127.0.1.1 .. 127.0.1.250,
    127.0.2.1 .. (250 a /24, so 1,000 neighbors use 127.0.1.0/24 to 127.0.4.0/24)."""
    return "127.0.0.1" if neighbors == 1 else f"127.0.{1 + k // 250}.{k % 250 + 1}"


# ---- Injector inputs ----------------------------------------------------------------------

def write_bgpinject_config(path, family, n):
    nh = next_hop(family)
    with open(path, "w") as f:
        f.write(f"neighbor 127.0.0.1 {{\n  router-id 192.0.2.1;\n  local-address 127.0.0.1;\n"
                f"  local-as 65001;\n  peer-as 65002;\n  connect {PORT};\n  static {{\n")
        for p in prefixes(family, n):
            f.write(f"    route {p} next-hop {nh};\n")
        f.write("  }\n}\n")


def write_template_config(path, n, neighbors):
    """What an operator would write for many neighbors sending one table: the routes once in
    a template, and one short block per neighbor inheriting it."""
    name = f"routes{n // 1000}k" if n % 1000 == 0 else f"routes{n}"
    with open(path, "w") as f:
        f.write(f"template {{\n  neighbor {name} {{\n    static {{\n")
        for p in prefixes("ipv4", n):
            f.write(f"      route {p} next-hop {next_hop('ipv4')};\n")
        f.write("    }\n  }\n}\n")
        for k in range(neighbors):
            f.write(f"neighbor {peer_address(k, neighbors)} {{ inherit {name}; router-id 192.0.2.1; "
                    f"local-address 127.0.0.1; local-as 65001; peer-as 65002; connect {PORT}; }}\n")


def write_exabgp_config(path, family, n):
    with open(path, "w") as f:
        f.write("neighbor 127.0.0.1 {\n router-id 192.0.2.1;\n local-address 127.0.0.1;\n"
                " local-as 65001;\n peer-as 65002;\n static {\n")
        for p in prefixes(family, n):
            f.write(f"  route {p} next-hop {next_hop(family)};\n")
        f.write(" }\n}\n")


def write_bird_injector_config(path, family, n):
    with open(path, "w") as f:
        f.write("router id 192.0.2.1;\nprotocol device {}\n")
        f.write(f"protocol static generated {{ {family}; \n")
        for p in prefixes(family, n):
            f.write(f"  route {p} blackhole;\n")
        f.write("}\n")
        f.write(f"protocol bgp injector {{ local 127.0.0.1 port {BIRD_INJECTOR_PORT} as 65001; strict bind on;\n"
                f"  neighbor 127.0.0.1 port {PORT} as 65002; multihop; connect delay time 1;\n"
                f"  {family} {{ import none; export filter {{ bgp_next_hop = {next_hop(family)}; accept; }}; }};\n}}\n")


# MRT (RFC 6396): type TABLE_DUMP_V2 and its subtypes (section 4.3).
MRT_TABLE_DUMP_V2 = 13
MRT_PEER_INDEX_TABLE, MRT_RIB_IPV4_UNICAST, MRT_RIB_IPV6_UNICAST = 1, 2, 4
MRT_PEER_TYPE_AS4 = 0x02  # peer entry: 4-octet AS, IPv4 address (section 4.3.1)
ATTR_ORIGIN, ATTR_AS_PATH, ATTR_NEXT_HOP, ATTR_MP_REACH_NLRI = 1, 2, 3, 14
FLAG_TRANSITIVE, FLAG_OPTIONAL = 0x40, 0x80


def mrt_record(subtype, body):
    """One MRT record: timestamp, type, subtype, length, body."""
    return struct.pack("!IHHI", 0, MRT_TABLE_DUMP_V2, subtype, len(body)) + body


def path_attribute(flags, code, value):
    return struct.pack("!BBB", flags, code, len(value)) + value


def mrt_attributes(family, prefix_bytes_and_len, full_mp_reach):
    """ORIGIN IGP, an empty AS_PATH (locally originated: the speaker prepends its own AS on
    eBGP, so the receiver sees [65001] as from the other injectors), and the next hop:
    NEXT_HOP for IPv4; for IPv6 MP_REACH_NLRI with only the next hop (RFC 6396 4.3.4), or
    with `full_mp_reach` the whole RFC 4760 attribute, AFI, SAFI, next hop, reserved, NLRI."""
    attrs = (path_attribute(FLAG_TRANSITIVE, ATTR_ORIGIN, b"\x00")
             + path_attribute(FLAG_TRANSITIVE, ATTR_AS_PATH, b""))
    nh = ipaddress.ip_address(next_hop(family)).packed
    if family == "ipv4":
        return attrs + path_attribute(FLAG_TRANSITIVE, ATTR_NEXT_HOP, nh)
    mp = bytes([len(nh)]) + nh
    if full_mp_reach:
        pbytes, plen = prefix_bytes_and_len
        mp = struct.pack("!HB", 2, 1) + mp + b"\x00" + bytes([plen]) + pbytes
    return attrs + path_attribute(FLAG_OPTIONAL, ATTR_MP_REACH_NLRI, mp)


MrtFile = namedtuple("MrtFile", "path chunk_ends")


def write_mrt_table_dump(path, family, n, full_mp_reach=False):
    """A TABLE_DUMP_V2 file: a PEER_INDEX_TABLE with one peer (192.0.2.1, AS 65001), then one
    RIB_IPV4_UNICAST or RIB_IPV6_UNICAST record per prefix with one RIB entry. Also returns
    where to cut it into chunks of whole records of at most PIPE_BUF octets (see
    feed_whole_records)."""
    router_id = ipaddress.ip_address("192.0.2.1").packed
    peer = struct.pack("!B4s4sI", MRT_PEER_TYPE_AS4, router_id, router_id, 65001)
    # Collector BGP ID, view name length 0, peer count, peers (section 4.3.1).
    index = struct.pack("!4sHH", router_id, 0, 1) + peer
    subtype = MRT_RIB_IPV4_UNICAST if family == "ipv4" else MRT_RIB_IPV6_UNICAST
    same_attrs = None if full_mp_reach and family == "ipv6" else mrt_attributes(family, None, False)
    chunk_ends, chunk_start, offset = [], 0, 0

    def put(f, record):
        nonlocal chunk_start, offset
        if offset + len(record) - chunk_start > select.PIPE_BUF:
            chunk_ends.append(offset)
            chunk_start = offset
        f.write(record)
        offset += len(record)

    with open(path, "wb") as f:
        put(f, mrt_record(MRT_PEER_INDEX_TABLE, index))
        for seq, p in enumerate(prefixes(family, n)):
            net = ipaddress.ip_network(p)
            plen = net.prefixlen
            pbytes = net.network_address.packed[:(plen + 7) // 8]
            attrs = same_attrs or mrt_attributes(family, (pbytes, plen), True)
            # Peer index 0, originated time 0, attribute length, attributes (section 4.3.4).
            entry = struct.pack("!HIH", 0, 0, len(attrs)) + attrs
            put(f, mrt_record(subtype, struct.pack("!IB", seq, plen) + pbytes
                              + struct.pack("!H", 1) + entry))
    chunk_ends.append(offset)
    return MrtFile(path, chunk_ends)


def gobgpd_config(family):
    """gobgpd: AS 65001, no listening socket, one neighbor: the receiver on 127.0.0.1:PORT."""
    return (f'[global.config]\n  as = 65001\n  router-id = "192.0.2.1"\n  port = -1\n'
            f'[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "127.0.0.1"\n'
            f'    peer-as = 65002\n  [neighbors.transport.config]\n'
            f'    local-address = "127.0.0.1"\n    remote-port = {PORT}\n'
            f'  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n'
            f'      afi-safi-name = "{family}-unicast"\n')


class InjectorInputs:
    """The files the injectors read for one table, written once when first needed and shared
    by the runs against both receivers."""

    def __init__(self, tmp, family, n):
        self.tmp, self.family, self.n = tmp, family, n

    def _path(self, name):
        return os.path.join(self.tmp, name)

    @functools.cached_property
    def bgpinject(self):
        path = self._path("bgpinject.conf")
        write_bgpinject_config(path, self.family, self.n)
        return path

    @functools.cached_property
    def exabgp(self):
        path = self._path("exabgp.conf")
        write_exabgp_config(path, self.family, self.n)
        return path

    @functools.cached_property
    def bird(self):
        path = self._path("bird-injector.conf")
        write_bird_injector_config(path, self.family, self.n)
        return path

    @functools.cached_property
    def mrt(self):
        return write_mrt_table_dump(self._path("table.mrt"), self.family, self.n,
                                    full_mp_reach=self.family == "ipv6")

    @functools.cached_property
    def gobgpd(self):
        path = self._path("gobgpd.toml")
        with open(path, "w") as f:
            f.write(gobgpd_config(self.family))
        return path


# ---- Processes ----------------------------------------------------------------------------

def end_group(popen, grace):
    """Waits up to `grace` seconds for a process already asked to stop, then SIGKILLs
    whatever is left of its process group, and reaps it."""
    try:
        popen.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(popen.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    popen.wait()


class Timed:
    """One command under /usr/bin/time -v, in its own process group; its output goes to a
    temp file, kept under target/bench/logs/ when the run fails."""

    def __init__(self, cmd, env=None, cwd=None, stdin=subprocess.DEVNULL):
        self.name = os.path.basename(cmd[0])
        fd, self.report = tempfile.mkstemp(suffix=".time")
        os.close(fd)
        fd, self.output = tempfile.mkstemp(suffix=".log")
        self.started_at = time.time()
        self.popen = subprocess.Popen(["/usr/bin/time", "-v", "-o", self.report] + cmd, env=env,
                                      cwd=cwd, stdin=stdin, stdout=fd, stderr=fd,
                                      start_new_session=True)
        os.close(fd)

    def running(self):
        return self.popen.poll() is None

    def stop(self):
        """SIGTERM to time's children first, so time writes its report; then SIGKILL to
        whatever is left in the process group."""
        kids = subprocess.run(["pgrep", "-P", str(self.popen.pid)], capture_output=True,
                              text=True).stdout.split()
        for k in kids:
            try:
                os.kill(int(k), signal.SIGTERM)
            except ProcessLookupError:
                pass
        end_group(self.popen, grace=15)
        if self.popen.stdin:
            try:
                self.popen.stdin.close()
            except OSError:
                pass

    def usage(self):
        """(peak RSS in MB, user + system CPU seconds), None where time did not report."""
        try:
            text = open(self.report).read()
        finally:
            os.unlink(self.report)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        user = re.search(r"User time \(seconds\): ([\d.]+)", text)
        sys_ = re.search(r"System time \(seconds\): ([\d.]+)", text)
        return ((int(rss.group(1)) / 1024) if rss else None,
                (float(user.group(1)) + float(sys_.group(1))) if user and sys_ else None)


class InjectorFailed(Exception):
    pass


def keep_output(procs, label):
    """Moves the processes' output to target/bench/logs/LABEL.NAME.log (or deletes it)."""
    for p in procs:
        if label:
            logs = os.path.join(OUT, "logs")
            os.makedirs(logs, exist_ok=True)
            shutil.move(p.output, os.path.join(logs, f"{label}.{p.name}.log"))
        else:
            os.unlink(p.output)


def total_usage(procs):
    """Summed peak RSS and CPU of the processes (they run at the same time)."""
    rss, cpu = None, None
    for p in procs:
        r, c = p.usage()
        rss = r if rss is None else rss + (r or 0)
        cpu = c if cpu is None else cpu + (c or 0)
    return rss, cpu


# ---- Injectors --------------------------------------------------------------------------
# Each is a function of the inputs returning `start(procs)`, which starts the injector's
# processes and appends them to `procs`. The inputs it reads are written on first use, before
# its first process (and so the clock) starts.

def one_process(cmd, env=None, cwd=None):
    return lambda procs: procs.append(Timed(cmd(), env=env, cwd=cwd))


def bgpinject(inputs):
    return one_process(lambda: [BGPINJECT, "--log-level", "warn", inputs.bgpinject])


def engine(inputs):
    return one_process(lambda: [ENGINE, f"127.0.0.1:{PORT}", str(inputs.n), inputs.family])


def dumb_sender(inputs):
    return one_process(lambda: [RECEIVER, "--replay", f"127.0.0.1:{PORT}", "--routes", str(inputs.n)])


def exabgp(inputs):
    env = dict(os.environ, **{
        "exabgp.daemon.user": "root", "exabgp.daemon.daemonize": "false",
        "exabgp.tcp.bind": "", "exabgp.tcp.port": str(PORT), "exabgp.api.cli": "false",
        "exabgp.log.destination": "stdout", "exabgp.log.level": "CRIT"})
    return one_process(lambda: ["exabgp", inputs.exabgp], env=env, cwd=inputs.tmp)


def bird_injector(inputs):
    return one_process(lambda: ["bird", "-f", "-c", inputs.bird,
                                "-s", os.path.join(inputs.tmp, "bird-injector.ctl"),
                                "-P", os.path.join(inputs.tmp, "bird-injector.pid")])


def gobgp_api_answers():
    return subprocess.run(["gobgp", "-p", str(GOBGP_API_PORT), "global"], capture_output=True,
                          timeout=10).returncode == 0


def feed_whole_records(fd, mrt):
    """Writes the MRT file into `fd` (its own copy of the CLI's stdin), then closes it. The
    Popen keeps stdin open until the run is stopped, and with it the CLI's stream to gobgpd:
    gobgp 3.10's CLI drops the last paths when it exits right after sending (osrg/gobgp#3044).
    It also reads each record with a plain read() and loses its place on a short read, so
    every write is whole records and at most PIPE_BUF octets: all seen or none."""
    try:
        with open(mrt.path, "rb") as f:
            data = memoryview(f.read())
        start = 0
        for end in mrt.chunk_ends:
            os.write(fd, data[start:end])
            start = end
    except OSError:
        pass  # the CLI is gone: the run reports what arrived
    finally:
        os.close(fd)


def gobgp(inputs):
    def start(procs):
        mrt, conf = inputs.mrt, inputs.gobgpd
        if gobgp_api_answers():
            raise InjectorFailed(f"something already answers on 127.0.0.1:{GOBGP_API_PORT}")
        daemon = Timed(["gobgpd", "-f", conf, "-t", "toml", "--api-hosts",
                        f"127.0.0.1:{GOBGP_API_PORT}", "--pprof-disable", "-l", "warn"])
        procs.append(daemon)
        deadline = time.time() + 15
        while not gobgp_api_answers():
            if not daemon.running() or time.time() > deadline:
                raise InjectorFailed("gobgpd's API did not answer")
            time.sleep(0.02)
        cli = Timed(["gobgp", "-p", str(GOBGP_API_PORT), "mrt", "inject", "global", "/dev/stdin"],
                    stdin=subprocess.PIPE)
        procs.append(cli)
        feeder_fd = os.dup(cli.popen.stdin.fileno())
        threading.Thread(target=feed_whole_records, args=(feeder_fd, mrt), daemon=True).start()
    return start


# ---- Receivers ----------------------------------------------------------------------------

Arrival = namedtuple("Arrival", "first_at done_at received")


class CountingReceiver:
    """bgp-count-receiver: done at End-of-RIB, or after `expect` prefixes."""
    kind = "counter"

    def start(self, family, sessions=1, expect=None):
        fd, self.out = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        listen = []
        for k in range(sessions):
            listen += ["--listen", f"{peer_address(k, sessions)}:{PORT}"]
        with open(self.out, "w") as out:
            self.popen = subprocess.Popen([RECEIVER] + listen + ["--sessions", str(sessions),
                                          "--timeout", str(int(RUN_CAP) + 30)]
                                          + (["--expect", str(expect)] if expect else []),
                                          stdout=out, stderr=subprocess.DEVNULL)
        time.sleep(0.2)

    def wait(self, n, deadline):
        try:
            self.popen.wait(timeout=max(0.0, deadline - time.time()))
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        try:
            r = json.load(open(self.out))
        except (OSError, ValueError):
            return Arrival(None, None, 0)
        got = r.get("ipv4_announced", 0) + r.get("ipv6_announced", 0)
        firsts = [s["first_nlri_at"] for s in r.get("sessions", []) if s.get("first_nlri_at")]
        done = r.get("last_eor_at") if r.get("complete") and got == n else None
        return Arrival(min(firsts) if firsts else None, done, got)

    def close(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        os.unlink(self.out)


class BirdReceiver:
    """A private BIRD 2 (own config, socket and pid file in a temp dir): passive on
    127.0.0.1:PORT, imports everything into its table, exports nothing, no kernel protocol.
    Done when `show protocols all` reports N routes imported."""
    kind = "bird"
    PROTOCOL = "injected"

    def start(self, family, sessions=1, expect=None):
        assert sessions == 1
        self.tmp = tempfile.mkdtemp(prefix="bench-bird-receiver.")
        self.socket = os.path.join(self.tmp, "bird.ctl")
        conf = os.path.join(self.tmp, "bird.conf")
        with open(conf, "w") as f:
            f.write(f"router id 192.0.2.254;\nprotocol device {{}}\n"
                    f"protocol bgp {self.PROTOCOL} {{\n"
                    f"  local 127.0.0.1 port {PORT} as 65002;\n  strict bind on;\n"
                    f"  neighbor 127.0.0.1 as 65001;\n  passive on;\n  multihop;\n"
                    f"  {family} {{ import all; export none; }};\n}}\n")
        with open(os.path.join(self.tmp, "bird.log"), "w") as log:
            self.popen = subprocess.Popen(["bird", "-f", "-c", conf, "-s", self.socket,
                                           "-P", os.path.join(self.tmp, "bird.pid")],
                                          stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 10
        while self.imported() is None:
            if self.popen.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the BIRD receiver did not start (see {self.tmp}/bird.log)")
            time.sleep(0.05)

    def imported(self):
        """Routes imported by the BGP protocol, None while BIRD does not answer."""
        try:
            r = subprocess.run(["birdc", "-s", self.socket, "show", "protocols", "all",
                                self.PROTOCOL], capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0 or self.PROTOCOL not in r.stdout:
            return None
        m = re.search(r"Routes:\s+(\d+) imported", r.stdout)
        return int(m.group(1)) if m else 0

    def wait(self, n, deadline):
        first, got = None, 0
        while time.time() < deadline:
            got = self.imported() or 0
            now = time.time()
            if got and first is None:
                first = now
            if got >= n:
                return Arrival(first, now, got)
            time.sleep(BIRD_POLL_S)
        return Arrival(first, None, got)

    def close(self):
        # BIRD's own peak RSS, before it goes (kept for the bird10m row's note).
        self.peak_rss_mb = vm_rss_mb(self.popen.pid, "VmHWM:")
        self.cpu_s = process_cpu_s(self.popen.pid)
        if self.popen.poll() is None:
            self.popen.terminate()
        end_group(self.popen, grace=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- Measuring ----------------------------------------------------------------------------

def row(name, receiver, family, n, sessions, seconds=None, first=None, rss=None, cpu=None,
        received=0, note=""):
    return {"injector": name, "receiver": receiver, "family": family, "routes": n,
            "sessions": sessions, "seconds": seconds, "ratio": None, "first_route_s": first,
            "rss_mb": rss, "cpu_s": cpu, "received": received, "note": note,
            "x_engine": None, "done_at": None}


def own_usage(timed):
    """(peak RSS in MB, CPU seconds) of the process under `timed`'s /usr/bin/time, read from
    /proc while it runs: its own, without the helpers it started and reaped (which
    /usr/bin/time would count once bgpinject has waited for them at its shutdown)."""
    kids = subprocess.run(["pgrep", "-P", str(timed.popen.pid)], capture_output=True,
                          text=True).stdout.split()
    if len(kids) != 1:
        return None, None
    return vm_rss_mb(int(kids[0]), "VmHWM:") or None, process_cpu_s(int(kids[0]))


def measure(name, receiver, family, n, start_injector, sessions=1, expect=None, note="",
            own=False):
    """One run: a fresh receiver, the injector's processes started, the clock from the first
    one's start until the receiver has all n * sessions routes (or RUN_CAP). `own`: the
    first process's RSS and CPU without its reaped children (see `own_usage`)."""
    procs, failure, mine = [], None, (None, None)
    receiver.start(family, sessions, expect)
    try:
        try:
            start_injector(procs)
        except InjectorFailed as e:
            failure = str(e)
        t0 = procs[0].started_at if procs else time.time()
        arrival = (Arrival(None, None, 0) if failure
                   else receiver.wait(n * sessions, t0 + RUN_CAP))
        if own and procs:
            mine = own_usage(procs[0])
    finally:
        for p in reversed(procs):
            p.stop()
        receiver.close()
    rss, cpu = total_usage(procs)
    if own:
        rss, cpu = mine
    secs = (arrival.done_at - t0) if arrival.done_at else None
    label = re.sub(r"[^a-z0-9]+", "-", f"{name} {receiver.kind} {family} {n} x{sessions}")
    keep_output(procs, label if secs is None else None)
    if failure:
        status = failure
    elif secs is None:
        status = (f"> {RUN_CAP:.0f} s (stopped), {arrival.received} of {n * sessions} received")
    else:
        status = ""
    first = (arrival.first_at - t0) if arrival.first_at else None
    r = row(name, receiver.kind, family, n, sessions, secs, first, rss, cpu, arrival.received,
            "; ".join(filter(None, [status, note])))
    r["done_at"] = arrival.done_at
    print(f"  {name:<26} -> {receiver.kind:<7} {family} {n:>8} x{sessions:<3} "
          f"{'%.3f s' % secs if secs is not None else status:>14} "
          f"rss {rss or 0:7.1f} MB cpu {cpu or 0:6.2f} s", flush=True)
    return r


def predicted_seconds(previous, n):
    """From the same injector's run at a smaller size: its startup (first route) plus its
    per-route time scaled to n; None when it was never measured."""
    if previous is None:
        return None
    if previous["seconds"] is None:
        return float("inf")
    startup = previous["first_route_s"] or 0.0
    sending = max(previous["seconds"] - startup, BIRD_POLL_S)
    return startup + sending * n / previous["routes"]


def injectors_for(inputs):
    """(name, start function) of every injector available for this table."""
    found = [("bgpinject", bgpinject(inputs)), ("engine (no parser)", engine(inputs))]
    if inputs.family == "ipv4":
        found.append(("dumb sender (ceiling)", dumb_sender(inputs)))
    for name, binary, make in [("exabgp", "exabgp", exabgp), ("bird", "bird", bird_injector),
                               ("gobgp", "gobgpd", gobgp)]:
        if shutil.which(binary):
            found.append((name, make(inputs)))
        else:
            print(f"  {name}: {binary} not installed, not measured", flush=True)
    return [(name, start) for name, start in found if not ONLY or name in ONLY]


def run_size(family, n, receivers, last_run):
    """Every injector into every receiver for one table; `last_run` holds each injector's
    latest row per (name, family, receiver) for the predictions."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale.") as tmp:
        inputs = InjectorInputs(tmp, family, n)
        for receiver in receivers:
            print(f"{family} {n} routes -> {receiver.kind}", flush=True)
            for name, start in injectors_for(inputs):
                key = (name, family, receiver.kind)
                predicted = predicted_seconds(last_run.get(key), n)
                if predicted is not None and predicted > RUN_CAP:
                    note = (f"> {RUN_CAP:.0f} s predicted from {last_run[key]['routes']} routes"
                            if predicted != float("inf") else
                            f"not started: stopped at {last_run[key]['routes']} routes")
                    print(f"  {name:<26} skipped: {note}", flush=True)
                    rows.append(row(name, receiver.kind, family, n, 1, note=note))
                    continue
                note = GOBGP_IPV6_NOTE if name == "gobgp" and family == "ipv6" else ""
                # GoBGP sends End-of-RIB when the session comes up, even if routes are still
                # being injected: the counter waits for the prefixes instead.
                expect = n if name == "gobgp" else None
                r = measure(name, receiver, family, n, start, expect=expect, note=note)
                rows.append(r)
                last_run[key] = r
    return rows


def process_api_row(n=100_000):
    """n announcements through the process API from a helper process, timed from the
    helper's first line (the helper writes the time just before it) to the last route at the
    counting receiver."""
    with tempfile.TemporaryDirectory(prefix="bench-api.") as tmp:
        conf, helper = os.path.join(tmp, "api.conf"), os.path.join(tmp, "flood.py")
        started = os.path.join(tmp, "first-line")
        with open(helper, "w") as f:
            # The lines are made before the clock starts: the row measures bgpinject, not
            # Python's string formatting (about 0.6 s for 1M lines on the bench machine).
            f.write("import sys, time\n"
                    "lines = []\n"
                    f"for i in range({n}):\n"
                    "    a = 0x0a000000 + i\n"
                    "    lines.append(f'announce route {a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/32 next-hop 192.0.2.1\\n')\n"
                    "chunks = [''.join(lines[k:k + 10000]) for k in range(0, len(lines), 10000)]\n"
                    f"open({started!r}, 'w').write(repr(time.time()))\n"
                    "for c in chunks:\n"
                    "    sys.stdout.write(c)\n"
                    "sys.stdout.flush()\n"
                    "time.sleep(3600)\n")
        with open(conf, "w") as f:
            f.write(f"process flood {{ run python3 {helper}; encoder text; }}\n"
                    f"neighbor 127.0.0.1 {{ router-id 192.0.2.1; local-address 127.0.0.1; "
                    f"local-as 65001; peer-as 65002; connect {PORT}; api {{ processes [ flood ]; }} }}\n")
        print(f"process API flood: {n} routes", flush=True)
        r = measure("bgpinject via process API", CountingReceiver(), "ipv4", n,
                    one_process(lambda: [BGPINJECT, "--log-level", "warn", "--control", "off", conf]),
                    expect=n, note="time from the helper's first line; RSS and CPU bgpinject's own",
                    own=True)
        try:
            first_line = float(open(started).read())
        except (OSError, ValueError):
            first_line = None
        if r["seconds"] is not None and first_line is not None and r.get("done_at"):
            r["seconds"] = r["done_at"] - first_line
            print(f"  from the helper's first line: {r['seconds']:.3f} s", flush=True)
        else:
            r["note"] += "; time from bgpinject's start (the helper's first line not recorded)"
        return r


def many_neighbors_row(n=100_000, neighbors=100):
    """100 neighbors inheriting one template of n routes: total time and RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-many.") as tmp:
        conf = os.path.join(tmp, "many.conf")
        write_template_config(conf, n, neighbors)
        print(f"{neighbors} neighbors x {n // 1000}k routes (one template)", flush=True)
        return measure("bgpinject", CountingReceiver(), "ipv4", n,
                       one_process(lambda: [BGPINJECT, "--log-level", "warn", "--control", "off", conf]),
                       sessions=neighbors,
                       note=f"{neighbors} neighbors inherit one template")


def write_route_file(path, first, count, med):
    with open(path, "w") as f:
        for i in range(first, first + count):
            f.write(f"route {v4(i)} next-hop 192.0.2.1 med {med};\n")


def cron_reload_row(files=100, per_file=10_000):
    """What a cron job does to a large configuration: 1M routes in `files` included files,
    one file of `per_file` routes rewritten (another MED: every route of it re-announced) and
    renamed into place, then SIGHUP. Time from the signal to the last re-announced route at
    the counting receiver; the reload's peak RSS (VmHWM reset before the signal) against the
    running RSS before it. A second run does the same with a comment appended to the main
    file, which makes the reload parse the whole configuration: the row gives the cron
    reload's time as a share of that full reload's, measured in the same run."""
    n = files * per_file
    cached = cron_reload_once(files, per_file, whole=False)
    full = cron_reload_once(files, per_file, whole=True)
    secs, peak, running = cached["secs"], cached["peak"], cached["running"]
    note = (f"SIGHUP to last UPDATE; reload peak RSS {peak:.1f} MB = {peak / running:.2f}x "
            f"the running {running:.1f} MB" if peak and running else "reload RSS not measured")
    if secs is None:
        note += f"; {cached['received']} of {n + per_file} received"
    if secs and full["secs"]:
        note += (f"; full reload (whole parse) {full['secs']:.3f} s, so the cron reload takes "
                 f"{100 * secs / full['secs']:.1f} % of it")
    print(f"  cron reload {fmt(secs, '%.3f')} s; {note}", flush=True)
    r = row("bgpinject cron reload", "counter", "ipv4", n, 1, secs, None, cached["rss"],
            cached["cpu"], cached["received"], note)
    r["reload_peak_rss_mb"], r["running_rss_mb"] = peak, running
    r["full_reload_s"] = full["secs"]
    r["full_reload_peak_rss_mb"] = full["peak"]
    return r


def cron_reload_once(files, per_file, whole):
    """One run of the cron row (see cron_reload_row); `whole` appends a comment to the main
    file along with the rewrite, so the reload parses everything."""
    n = files * per_file
    with tempfile.TemporaryDirectory(prefix="bench-cron.") as tmp:
        os.mkdir(os.path.join(tmp, "routes"))
        for k in range(files):
            write_route_file(os.path.join(tmp, "routes", f"r{k:03}.inc"), k * per_file,
                             per_file, 0)
        conf = os.path.join(tmp, "cron.conf")
        with open(conf, "w") as f:
            f.write(f"neighbor 127.0.0.1 {{\n  router-id 192.0.2.1;\n  local-address 127.0.0.1;\n"
                    f"  local-as 65001;\n  peer-as 65002;\n  connect {PORT};\n"
                    f"  static {{\n    include \"routes/*.inc\";\n  }}\n}}\n")
        what = "whole parse" if whole else "parse cache"
        print(f"cron reload ({what}): {n} routes in {files} files, one of {per_file} rewritten",
              flush=True)
        receiver = CountingReceiver()
        receiver.start("ipv4", 1, expect=n + per_file)
        proc = Timed([BGPINJECT, "--log-level", "warn", "--control", "off", conf])
        running = peak = t0 = None
        arrival = Arrival(None, None, 0)
        try:
            time.sleep(0.3)
            kids = subprocess.run(["pgrep", "-P", str(proc.popen.pid)], capture_output=True,
                                  text=True).stdout.split()
            pid = int(kids[0]) if kids else proc.popen.pid
            running = settled_rss(pid, time.time() + 60)
            changed = os.path.join(tmp, "routes", f"r{files // 2:03}.inc")
            write_route_file(changed + ".new", (files // 2) * per_file, per_file, 7)
            os.rename(changed + ".new", changed)
            if whole:
                with open(conf, "a") as f:
                    f.write("# edited\n")
            # Writing 5 to clear_refs resets VmHWM, so the peak below is the reload's own.
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")
                hwm_reset = True
            except OSError:
                hwm_reset = False
            t0 = time.time()
            os.kill(pid, signal.SIGHUP)
            arrival = receiver.wait(n + per_file, t0 + RUN_CAP)
            if hwm_reset:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmHWM:"):
                        peak = int(line.split()[1]) / 1024
        finally:
            proc.stop()
            receiver.close()
        rss, cpu = proc.usage()
        secs = (arrival.done_at - t0) if arrival.done_at and t0 else None
        print(f"  {what}: {fmt(secs, '%.3f')} s, reload peak {fmt(peak, '%.1f')} MB, "
              f"running {fmt(running, '%.1f')} MB", flush=True)
        return {"secs": secs, "peak": peak, "running": running, "rss": rss, "cpu": cpu,
                "received": arrival.received}


def ten_million_rows(n=10_000_000):
    """10M IPv4 routes from bgpinject (a generated config of about 450 MB) and from the engine,
    to the counting receiver: time and peak RSS."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-10m.") as tmp:
        inputs = InjectorInputs(tmp, "ipv4", n)
        print(f"ipv4 {n} routes -> counter", flush=True)
        for name, start in [("bgpinject", bgpinject(inputs)), ("engine (no parser)", engine(inputs))]:
            rows.append(measure(name, CountingReceiver(), "ipv4", n, start))
    return rows


def bird_ten_million_rows(n=10_000_000, runs=BIRD10M_RUNS):
    """10M IPv4 routes into BIRD from bgpinject (the generated configuration of the ipv4-10m
    row) and from the dumb sender (BIRD's import ceiling: pre-encoded UPDATEs, nothing to
    parse), `runs` times each, alternating, a fresh BIRD each run. One row per injector with
    the median time; each run's time and BIRD's peak RSS in its note."""
    runs_of = {}
    with tempfile.TemporaryDirectory(prefix="bench-bird10m.") as tmp:
        inputs = InjectorInputs(tmp, "ipv4", n)
        injectors = [("bgpinject", bgpinject(inputs)), ("dumb sender (ceiling)", dumb_sender(inputs))]
        injectors = [(name, start) for name, start in injectors if not ONLY or name in ONLY]
        for k in range(runs):
            print(f"ipv4 {n} routes -> bird, run {k + 1} of {runs}", flush=True)
            for name, start in injectors:
                receiver = BirdReceiver()
                r = measure(name, receiver, "ipv4", n, start)
                r["bird_peak_mb"] = getattr(receiver, "peak_rss_mb", 0.0)
                r["bird_cpu_s"] = getattr(receiver, "cpu_s", None) or 0.0
                print(f"    BIRD's peak RSS {r['bird_peak_mb']:.0f} MB, CPU {r['bird_cpu_s']:.2f} s",
                      flush=True)
                runs_of.setdefault(name, []).append(r)
    rows = []
    for name, done in runs_of.items():
        times = sorted(r["seconds"] for r in done if r["seconds"] is not None)
        best = dict(done[0])
        if len(times) == len(done):
            mid = len(times) // 2
            median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
            closest = min(done, key=lambda r: abs(r["seconds"] - median))
            best = dict(closest, seconds=median)
        best["note"] = "; ".join(filter(None, [
            best["note"], f"median of {len(done)} runs: " + " / ".join(
                "%.3f s" % r["seconds"] if r["seconds"] is not None else "stopped" for r in done),
            "BIRD peak RSS " + " / ".join("%.0f MB" % r["bird_peak_mb"] for r in done),
            "BIRD CPU " + " / ".join("%.2f s" % r["bird_cpu_s"] for r in done)]))
        rows.append(best)
    return rows


def process_cpu_s(pid):
    """User + system CPU seconds of a running process (None when it is gone)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def vm_rss_mb(pid, field="VmRSS:"):
    """The current resident set of a process, in MB (0 when it is gone); VmHWM: its peak."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def settled_rss(pid, deadline):
    """The RSS once it has not changed by more than 1% for a second (or at the deadline)."""
    last, since = vm_rss_mb(pid), time.time()
    while time.time() < deadline:
        time.sleep(0.2)
        now = vm_rss_mb(pid)
        if abs(now - last) > last * 0.01:
            last, since = now, time.time()
        elif time.time() - since >= 1.0:
            break
    return last


def program_route_to_many_row(n=100_000, neighbors=100):
    """100 neighbors inheriting one template of n routes, then one `ctl announce` to all of
    them: the RSS before and after (the program route must not un-share the table)."""
    with tempfile.TemporaryDirectory(prefix="bench-overlay.") as tmp:
        conf, sock = os.path.join(tmp, "many.conf"), os.path.join(tmp, "ctl.sock")
        write_template_config(conf, n, neighbors)
        print(f"{neighbors} neighbors x {n // 1000}k routes, then one ctl announce to all",
              flush=True)
        receiver = CountingReceiver()
        # --expect counts per session: the table and the program route.
        receiver.start("ipv4", neighbors, expect=n + 1)
        proc = Timed([BGPINJECT, "--log-level", "warn", "--control", sock, conf])
        before = after = None
        try:
            time.sleep(0.5)
            kids = subprocess.run(["pgrep", "-P", str(proc.popen.pid)], capture_output=True,
                                  text=True).stdout.split()
            pid = int(kids[0]) if kids else proc.popen.pid
            # The control socket is bound once the configuration is loaded: on a busy
            # machine that can come after the RSS has looked settled for a second.
            deadline = time.time() + 60
            while not os.path.exists(sock) and time.time() < deadline:
                time.sleep(0.1)
            before = settled_rss(pid, time.time() + 60)
            t0 = time.time()
            subprocess.run([BGPINJECT, "ctl", "--socket", sock, "announce", "route",
                            "10.255.255.0/24", "next-hop", "192.0.2.1"], check=True,
                           capture_output=True)
            arrival = receiver.wait((n + 1) * neighbors, t0 + RUN_CAP)
            after = settled_rss(pid, time.time() + 10)
        finally:
            proc.stop()
            receiver.close()
        rss, cpu = proc.usage()
        secs = (arrival.done_at - t0) if arrival.done_at else None
        growth = (after / before - 1) * 100 if before and after else None
        note = (f"ctl announce to {neighbors} neighbors: RSS {before:.1f} -> {after:.1f} MB "
                f"({growth:+.1f}%)" if growth is not None else "RSS not measured")
        if secs is None:
            note += f"; {arrival.received} of {(n + 1) * neighbors} received"
        print(f"  {note}", flush=True)
        return row("bgpinject + ctl announce", "counter", "ipv4", n, neighbors, secs, None, rss,
                   cpu, arrival.received, note)


# ---- Results ------------------------------------------------------------------------------

def add_ratios(rows):
    """Each row's time over bgpinject's with the same family, size, sessions and receiver."""
    key = lambda r: (r["family"], r["routes"], r["sessions"], r["receiver"])
    base = {key(r): r["seconds"] for r in rows if r["injector"] == "bgpinject"}
    for r in rows:
        b = base.get(key(r))
        r["ratio"] = (r["seconds"] / b) if (b and r["seconds"]) else None
    # x engine: over the engine-only time of the same family and size (one session) in this
    # run; the cron reload and the process API rows against the engine's 1M IPv4.
    engine = {(r["family"], r["routes"]): r["seconds"] for r in rows
              if r["injector"] == "engine (no parser)" and r["receiver"] == "counter"}
    for r in rows:
        e = engine.get((r["family"], r["routes"]))
        if e and r["seconds"] and r["receiver"] == "counter" and r["sessions"] == 1:
            r["x_engine"] = r["seconds"] / e


def peer_ratios(rows):
    """The process-API and 10M rows against the peers of the same run: how many times faster
    than ExaBGP, GoBGP and BIRD (as injectors, counting receiver, IPv4) at 1M routes. The
    peers are not run at 10M (ExaBGP alone would take minutes and gigabytes), so the 10M rows
    are set against their 1M times: ten times the routes in how much of their time for one
    tenth. Lines of text, also kept in the JSON."""
    peers = {r["injector"]: r["seconds"] for r in rows
             if r["receiver"] == "counter" and r["family"] == "ipv4" and r["routes"] == 1_000_000
             and r["sessions"] == 1 and r["seconds"]
             and r["injector"] in ("exabgp", "gobgp", "bird", "engine (no parser)")}
    lines = []
    for r in rows:
        special = r["injector"] == "bgpinject via process API" and r["routes"] == 1_000_000
        ten = (r["routes"] == 10_000_000 and r["receiver"] == "counter"
               and r["injector"] in ("bgpinject", "engine (no parser)"))
        if not (special or ten) or not r["seconds"]:
            continue
        parts = [f"{name} {peers[name]:.3f} s ({peers[name] / r['seconds']:.1f}x this row's time)"
                 for name in ("exabgp", "gobgp", "bird") if name in peers]
        if "engine (no parser)" in peers:
            parts.insert(0, f"engine {peers['engine (no parser)']:.3f} s (this row "
                            f"{r['seconds'] / peers['engine (no parser)']:.2f}x its time)")
        what = "1M via the process API" if special else f"10M ({r['injector']})"
        lines.append(f"  {what}, {r['seconds']:.3f} s, against 1M IPv4 of this run: "
                     + ("; ".join(parts) if parts else "no 1M IPv4 peer row in this run"))
    into_bird = {r["injector"]: r for r in rows if r["receiver"] == "bird"
                 and r["family"] == "ipv4" and r["routes"] == 10_000_000 and r["seconds"]}
    if "bgpinject" in into_bird and "dumb sender (ceiling)" in into_bird:
        ours, ceiling = into_bird["bgpinject"], into_bird["dumb sender (ceiling)"]
        first = ours["first_route_s"] or 0.0
        lines.append(f"  10M into BIRD, {ours['seconds']:.3f} s: BIRD's import ceiling (dumb sender) "
                     f"{ceiling['seconds']:.3f} s, so {ours['seconds'] / ceiling['seconds']:.2f}x "
                     f"the ceiling (target: at most 2x); bgpinject's first route at {first:.3f} s "
                     f"(reading the configuration), then {ours['seconds'] - first:.3f} s of BIRD "
                     f"importing")
    return lines


def fmt(value, pattern):
    return pattern % value if value is not None else "-"


def print_table(rows):
    print()
    print(f"{'injector':<26} {'receiver':<8} {'family':<6} {'routes':>8} {'sess':>4} "
          f"{'seconds':>9} {'x bgpinject':>11} {'x engine':>8} {'1st route':>9} {'RSS MB':>8} {'CPU s':>7}  note")
    for r in rows:
        print(f"{r['injector']:<26} {r['receiver']:<8} {r['family']:<6} {r['routes']:>8} "
              f"{r['sessions']:>4} {fmt(r['seconds'], '%.3f'):>9} {fmt(r['ratio'], '%.2f'):>11} {fmt(r['x_engine'], '%.2f'):>8} "
              f"{fmt(r['first_route_s'], '%.3f'):>9} {fmt(r['rss_mb'], '%.1f'):>8} "
              f"{fmt(r['cpu_s'], '%.2f'):>7}  {r['note']}")
    ratios = peer_ratios(rows)
    if ratios:
        print("\nAgainst the peers (and the engine) of the same run:")
        print("\n".join(ratios))
    print("\nNotes:")
    for name, text in NOTES.items():
        print(f"  {name}: {text}")


def version(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (r.stdout + r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError) as e:
        return f"unavailable ({e})"


def machine():
    return {"nproc": os.cpu_count(),
            "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                         if l.startswith("model name")), "?"),
            "exabgp": version(["exabgp", "--version"]), "bird": version(["bird", "--version"]),
            "gobgp": version(["gobgpd", "--version"]), "run_cap_s": RUN_CAP}


def write_results(rows, meta):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "scale.json"), "w") as f:
        json.dump({"machine": meta, "notes": NOTES, "rows": rows}, f, indent=1)
    with open(os.path.join(OUT, "scale.csv"), "w", newline="") as f:
        # Some rows have fields of their own (the cron row's reload figures).
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(f, fieldnames=fields, restval="")
        w.writeheader()
        w.writerows(rows)


def stop_on_sigterm():
    """SIGTERM unwinds like Ctrl-C, so every started process is stopped and temp dirs go."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def main():
    stop_on_sigterm()
    subprocess.run(["cargo", "build", "--release", "--bins", "--examples"], cwd=ROOT, check=True)
    have_bird = shutil.which("bird") and shutil.which("birdc")
    rows, last_run = [], {}
    for family, n in sorted(set(SIZES) | set(BIRD_SIZES), key=lambda s: (s[0], s[1])):
        receivers = ([CountingReceiver()] if (family, n) in SIZES else []) + \
                    ([BirdReceiver()] if (family, n) in BIRD_SIZES and have_bird else [])
        rows += run_size(family, n, receivers, last_run)
    extra = {"api100k": lambda: [process_api_row(100_000)],
             "neighbors100": lambda: [many_neighbors_row(100_000, 100)],
             "overlay": lambda: [program_route_to_many_row()],
             "cron": lambda: [cron_reload_row()],
             "api1m": lambda: [process_api_row(1_000_000)],
             "neighbors1000": lambda: [many_neighbors_row(100_000, 1000)],
             "ipv4-10m": ten_million_rows,
             "bird10m": bird_ten_million_rows}
    for name in EXTRA_ROWS:
        rows += extra[name]()
    add_ratios(rows)
    print_table(rows)
    meta = machine()
    print(json.dumps(meta))
    write_results(rows, meta)


if __name__ == "__main__":
    main()
