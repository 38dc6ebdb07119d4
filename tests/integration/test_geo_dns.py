"""cdn-geo's DNS server with real clients: `dig` (and `kdig` from knot-dnsutils) and raw packets
from Python, against geo_dns_test_server (the real DnsServer and answer_query serving a fixed zone
with a deterministic fake Steering, see tests/unit/geo_dns/fake_steering.h); at the end, cdn-geo
itself for its `geo.dns` listener options and `dns_listen` moved on SIGHUP.

Zone cdn.example: NS ns1/ns2 (glue 192.0.2.53, 2001:db8::53, 198.51.100.53); delivery hosts
video (A 127.0.0.11 127.0.0.12, AAAA 2001:db8::11; ECS scope = source prefix cut to /24 or /56),
noecs (ECS off) and deep.eu; edge names edge-a (127.0.0.11, ::1) and edge-b (127.0.0.12).
"""
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import build_dir, free_port, program_path, to_yaml, under_sanitizer, wait_until

SERVER = "geo/dns/geo_dns_test_server"


class DnsTestServer:
    def __init__(self, *args):
        path = build_dir() / SERVER
        if not path.exists():
            pytest.fail(f"{path} does not exist: build geo_dns_test_server first", pytrace=False)
        self.proc = subprocess.Popen([str(path), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()  # blocks until the sockets are bound (or the program exits)
        m = re.match(r"listening (\d+)", line)
        if not m:
            self.proc.kill()
            pytest.fail(f"geo_dns_test_server did not start: {line!r} {self.proc.stderr.read()}", pytrace=False)
        self.port = int(m.group(1))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="module")
def dns():
    s = DnsTestServer()
    yield s
    assert s.stop() == 0, "the test server must exit cleanly on SIGTERM"


@pytest.fixture
def dns_with(request):
    """Starts a server with the given options for one test."""
    servers = []

    def start(*args):
        s = DnsTestServer(*args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def need(tool):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed (scripts/install-deps.sh)", pytrace=False)


def dig(server, *args):
    need("dig")
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(server.port), "+time=5", "+tries=1", *args],
                         capture_output=True, text=True, timeout=30)
    return out.stdout


def kdig(server, *args):
    need("kdig")
    out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(server.port), "+time=5", "+retry=0", *args],
                         capture_output=True, text=True, timeout=30)
    return out.stdout


def status(out):
    return re.search(r"status: (\w+)", out).group(1)


def flags(out):
    return re.search(r";; flags: ([a-z ]*);", out).group(1).split()


def section(out, name):
    """The record lines of a dig output section, as (owner, ttl, type, data) tuples."""
    m = re.search(rf";; {name} SECTION:\n(.*?)(?:\n\n|\Z)", out, re.S)
    if not m:
        return []
    rows = []
    for line in m.group(1).splitlines():
        parts = line.split(None, 4)
        rows.append((parts[0], int(parts[1]), parts[3], parts[4]))
    return rows


# ---- raw packets ------------------------------------------------------------------------------

def qname_wire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"


def raw_query(name, qtype=1, qid=0x1234, opt=None, payload=1232):
    """A query built by hand; `opt` is the OPT RR's option bytes (an OPT RR is added when not None)."""
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if opt is not None else 0)
    q = header + qname_wire(name) + struct.pack("!HH", qtype, 1)
    if opt is not None:
        q += b"\0" + struct.pack("!HHIH", 41, payload, 0, len(opt)) + opt
    return q


def ecs_option(family, source, scope, address):
    data = struct.pack("!HBB", family, source, scope) + address
    return struct.pack("!HH", 8, len(data)) + data


def udp_exchange(server, packet, timeout=5.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, ("127.0.0.1", server.port))
        return s.recv(65535)


def rcode(answer):
    return answer[3] & 0x0F


def answer_id(answer):
    return struct.unpack("!H", answer[:2])[0]


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def tcp_read_answer(sock):
    (length,) = struct.unpack("!H", recv_exact(sock, 2))
    return recv_exact(sock, length)


def frame(packet):
    return struct.pack("!H", len(packet)) + packet


# ---- records ----------------------------------------------------------------------------------

def test_a_for_a_delivery_host(dns):
    out = dig(dns, "video.cdn.example", "A", "+norec")
    assert status(out) == "NOERROR"
    assert "aa" in flags(out)
    answer = section(out, "ANSWER")
    assert sorted(r[3] for r in answer) == ["127.0.0.11", "127.0.0.12"]
    assert all(r[1] == 30 and r[2] == "A" for r in answer)


def test_aaaa_for_a_delivery_host(dns):
    out = dig(dns, "video.cdn.example", "AAAA")
    assert status(out) == "NOERROR"
    assert [r[3] for r in section(out, "ANSWER")] == ["2001:db8::11"]


def test_soa_at_the_apex(dns):
    out = dig(dns, "cdn.example", "SOA")
    assert status(out) == "NOERROR" and "aa" in flags(out)
    (soa,) = section(out, "ANSWER")
    assert soa[2] == "SOA"
    assert soa[3].split()[:3] == ["ns1.cdn.example.", "hostmaster.cdn.example.", "1"]


def test_ns_at_the_apex_with_glue(dns):
    out = dig(dns, "cdn.example", "NS")
    assert status(out) == "NOERROR"
    assert sorted(r[3] for r in section(out, "ANSWER")) == ["ns1.cdn.example.", "ns2.cdn.example."]
    glue = sorted((r[0], r[3]) for r in section(out, "ADDITIONAL"))
    assert glue == [("ns1.cdn.example.", "192.0.2.53"), ("ns1.cdn.example.", "2001:db8::53"),
                    ("ns2.cdn.example.", "198.51.100.53")]


def test_edge_names(dns):
    out = dig(dns, "edge-a.cdn.example", "A")
    assert [r[3] for r in section(out, "ANSWER")] == ["127.0.0.11"]
    assert section(out, "ANSWER")[0][1] == 300


def test_unknown_name_is_nxdomain_with_the_soa(dns):
    out = dig(dns, "nope.cdn.example", "A")
    assert status(out) == "NXDOMAIN"
    assert "aa" in flags(out)
    assert [r[2] for r in section(out, "AUTHORITY")] == ["SOA"]


def test_existing_name_without_the_type_is_nodata(dns):
    for name, qtype in [("edge-b.cdn.example", "AAAA"), ("video.cdn.example", "MX"), ("eu.cdn.example", "A")]:
        out = dig(dns, name, qtype)
        assert status(out) == "NOERROR", name
        assert section(out, "ANSWER") == [], name
        assert [r[2] for r in section(out, "AUTHORITY")] == ["SOA"], name


def test_outside_the_zone_is_refused(dns):
    out = dig(dns, "www.example.org", "A")
    assert status(out) == "REFUSED"
    assert "aa" not in flags(out)


def test_mixed_case_question_comes_back_as_sent(dns):
    out = dig(dns, "ViDeO.cDn.ExAmPlE", "A")
    assert ";ViDeO.cDn.ExAmPlE.\t" in out
    assert len(section(out, "ANSWER")) == 2
    # Byte for byte, from a raw packet: the question section of the answer is the query's.
    q = raw_query("vIdEo.CdN.eXaMpLe")
    a = udp_exchange(dns, q)
    assert a[12:len(q)] == q[12:]


def test_edns_version_above_zero_is_badvers(dns):
    out = dig(dns, "video.cdn.example", "+edns=1", "+noednsneg")
    assert status(out) == "BADVERS"


# ---- TCP --------------------------------------------------------------------------------------

def test_tcp_with_dig(dns):
    out = dig(dns, "video.cdn.example", "A", "+tcp")
    assert status(out) == "NOERROR"
    assert "(TCP)" in out
    assert len(section(out, "ANSWER")) == 2


def test_several_queries_on_one_tcp_connection(dns):
    names = ["video.cdn.example", "cdn.example", "nope.cdn.example", "edge-a.cdn.example"]
    with socket.create_connection(("127.0.0.1", dns.port), timeout=5) as s:
        # All four in one write (pipelined), then one more after the answers: both must work.
        s.sendall(b"".join(frame(raw_query(n, qid=100 + i)) for i, n in enumerate(names)))
        answers = [tcp_read_answer(s) for _ in names]
        assert [answer_id(a) for a in answers] == [100, 101, 102, 103]
        assert [rcode(a) for a in answers] == [0, 0, 3, 0]
        # A query split across writes, byte by byte for the length prefix.
        q = frame(raw_query("video.cdn.example", qid=200))
        s.sendall(q[:1])
        s.sendall(q[1:7])
        s.sendall(q[7:])
        assert answer_id(tcp_read_answer(s)) == 200


def test_kdig_keeps_one_tcp_connection_for_several_queries(dns):
    out = kdig(dns, "+tcp", "+keepopen", "video.cdn.example", "A", "cdn.example", "SOA", "nope.cdn.example", "A")
    assert out.count("status: NOERROR") == 2
    assert out.count("status: NXDOMAIN") == 1


def test_tcp_idle_connection_is_closed(dns_with):
    server = dns_with("--tcp-idle-ms", "300")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"\x00")  # half a length prefix, then nothing
        assert s.recv(1) == b""  # closed by the server (the 10 s socket timeout would raise)


def test_tcp_connections_are_bounded(dns_with):
    server = dns_with("--max-tcp", "2")
    a = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    b = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        for i, s in enumerate((a, b)):  # both are served
            s.sendall(frame(raw_query("video.cdn.example", qid=i)))
            assert answer_id(tcp_read_answer(s)) == i
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as c:
            c.sendall(frame(raw_query("video.cdn.example", qid=9)))
            with pytest.raises((ConnectionError, OSError)):
                tcp_read_answer(c)
        a.sendall(frame(raw_query("cdn.example", 6, qid=7)))
        assert answer_id(tcp_read_answer(a)) == 7
    finally:
        a.close()
        b.close()
    # The slots free up once the connections close.
    for _ in range(50):
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as c:
                c.sendall(frame(raw_query("video.cdn.example", qid=11)))
                assert answer_id(tcp_read_answer(c)) == 11
                break
        except (ConnectionError, OSError):
            continue
    else:
        pytest.fail("no TCP slot came free after closing connections")


# ---- truncation -------------------------------------------------------------------------------

def test_udp_answer_too_big_sets_tc_and_tcp_gets_it_all(dns_with):
    server = dns_with("--hosts", "100")  # 102 A records: about 1.7 kB
    out = dig(server, "video.cdn.example", "A", "+ignore", "+noedns")
    assert "tc" in flags(out)
    out = dig(server, "video.cdn.example", "A", "+ignore", "+bufsize=1232")
    assert "tc" in flags(out)
    out = dig(server, "video.cdn.example", "A", "+tcp")
    assert "tc" not in flags(out)
    assert len(section(out, "ANSWER")) == 102
    # Without +ignore, dig retries over TCP by itself on TC.
    out = dig(server, "video.cdn.example", "A")
    assert len(section(out, "ANSWER")) == 102


def test_requesters_payload_size_is_respected(dns_with):
    server = dns_with("--hosts", "40", "--udp-max-payload", "4096")  # 42 records: about 720 bytes
    for bufsize, truncated in [(512, True), (700, True), (1232, False), (4096, False)]:
        a = udp_exchange(server, raw_query("video.cdn.example", opt=b"", payload=bufsize))
        assert len(a) <= max(bufsize, 512)
        assert bool(a[2] & 0x02) == truncated, bufsize


# ---- ECS --------------------------------------------------------------------------------------

def test_subnet_is_used_and_the_scope_returned(dns):
    out = dig(dns, "video.cdn.example", "A", "+subnet=1.2.3.0/24")
    assert status(out) == "NOERROR"
    assert "CLIENT-SUBNET: 1.2.3.0/24/24" in out
    out = dig(dns, "video.cdn.example", "AAAA", "+subnet=2001:db8:1::/48")
    assert "CLIENT-SUBNET: 2001:db8:1::/48/48" in out


def test_subnet_source_prefix_zero(dns):
    out = dig(dns, "video.cdn.example", "A", "+subnet=0.0.0.0/0")
    assert status(out) == "NOERROR"
    assert "CLIENT-SUBNET: 0.0.0.0/0/0" in out
    assert len(section(out, "ANSWER")) == 2


def test_subnet_scope_zero_for_the_apex_and_private_addresses(dns):
    assert "CLIENT-SUBNET: 1.2.3.0/24/0" in dig(dns, "cdn.example", "NS", "+subnet=1.2.3.0/24")
    assert "CLIENT-SUBNET: 10.1.2.0/24/0" in dig(dns, "video.cdn.example", "A", "+subnet=10.1.2.0/24")
    assert "CLIENT-SUBNET: 1.2.3.0/24/0" in dig(dns, "noecs.cdn.example", "A", "+subnet=1.2.3.0/24")


def test_malformed_subnet_option_is_formerr(dns):
    bad = [
        ecs_option(1, 24, 0, bytes([1, 2, 3, 4])),  # an address byte past the prefix
        ecs_option(1, 23, 0, bytes([1, 2, 3])),     # an address bit past the prefix
        ecs_option(3, 8, 0, bytes([1])),            # unknown family
        ecs_option(1, 40, 0, bytes(5)),             # prefix longer than IPv4
    ]
    for opt in bad:
        a = udp_exchange(dns, raw_query("video.cdn.example", opt=opt))
        assert rcode(a) == 1, opt.hex()
    good = udp_exchange(dns, raw_query("video.cdn.example", opt=ecs_option(1, 24, 0, bytes([1, 2, 3]))))
    assert rcode(good) == 0


# ---- hostile input ----------------------------------------------------------------------------

def test_malformed_packets_never_crash_and_get_formerr_or_nothing(dns):
    rng = random.Random(7)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        dest = ("127.0.0.1", dns.port)
        # A truncated header (no ID to answer to) is dropped: the next answer is the next query's.
        s.sendto(b"\x12\x34\x01", dest)
        s.sendto(raw_query("video.cdn.example", qid=0x7777), dest)
        assert answer_id(s.recv(4096)) == 0x7777
        # A header claiming two questions, and a question cut short: FORMERR.
        two = bytearray(raw_query("video.cdn.example", qid=0x1001))
        two[5] = 2
        for pkt, qid in [(bytes(two), 0x1001), (raw_query("video.cdn.example", qid=0x1002)[:-3], 0x1002)]:
            s.sendto(pkt, dest)
            a = s.recv(4096)
            assert answer_id(a) == qid and rcode(a) == 1
        # Random bytes: whatever comes back answers that packet's ID and is an error or a real answer.
        for i in range(300):
            pkt = bytes(rng.randrange(256) for _ in range(rng.randrange(12, 100)))
            pkt = pkt[:2] + bytes([pkt[2] & 0x7F]) + pkt[3:]  # a query, not an answer
            s.sendto(pkt, dest)
            s.sendto(raw_query("cdn.example", 6, qid=0xBEEF), dest)
            while True:  # the answer to pkt, if any, comes before the marker's
                a = s.recv(4096)
                if a[:2] == b"\xbe\xef" and pkt[:2] != b"\xbe\xef":
                    break
                assert a[:2] == pkt[:2] and a[2] & 0x80
                if a[:2] == b"\xbe\xef":
                    break
    assert dns.alive()
    assert status(dig(dns, "video.cdn.example")) == "NOERROR"


def test_garbage_over_tcp_closes_only_that_connection(dns):
    with socket.create_connection(("127.0.0.1", dns.port), timeout=5) as s:
        s.sendall(frame(b"\x01\x02\x03"))  # too short to be a query: dropped, the stream is closed
        assert s.recv(1) == b""
    with socket.create_connection(("127.0.0.1", dns.port), timeout=5) as s:
        s.sendall(frame(raw_query("video.cdn.example", qid=5)))
        assert answer_id(tcp_read_answer(s)) == 5


def test_tcp_client_that_never_reads_is_not_buffered_without_bound(dns_with):
    server = dns_with()
    query = frame(raw_query("video.cdn.example"))
    batch = query * 2000
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            while sent < 200 * 1024 * 1024:
                sent += s.send(batch)
        except socket.timeout:
            pass  # the server stopped reading: its answers wait for us, so our queries wait too
        assert sent < 200 * 1024 * 1024, "the server kept reading queries it could not answer"
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{server.proc.pid}/status").read()).group(1))
        if not under_sanitizer():  # ASan keeps freed memory in quarantine
            assert rss_kb < 64 * 1024, f"server RSS {rss_kb} kB"
        # Other clients are still served meanwhile.
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as other:
            other.sendall(frame(raw_query("cdn.example", 6, qid=77)))
            assert answer_id(tcp_read_answer(other)) == 77


# ---- cdn-geo: geo.dns options, dns_listen on SIGHUP --------------------------------------------

NS_COUNT = 24  # NS records with glue at the apex: an answer of about 900 bytes


class Port:
    def __init__(self, port):
        self.port = port


def geo_config(dns_ports, dns=None):
    """A cdn-geo serving cdn.example with NS_COUNT in-zone name servers; its one edge is never polled
    successfully, which these tests do not need (they ask for the apex)."""
    ns = [{"name": f"ns{i}.cdn.example", "address": f"127.0.1.{i + 1}"} for i in range(NS_COUNT)]
    geo = {"zone": {"name": "cdn.example", "ns": ns},
           "dns_listen": [f"127.0.0.1:{p}" for p in dns_ports],
           "delivery_hosts": [{"name": "video.cdn.example"}],
           "sites": [{"name": "fra", "lat": 50.11, "lon": 8.68}],
           "edges": [{"name": "fra-1", "site": "fra", "ipv4": ["127.0.0.11"],
                      "admin": f"http://127.0.0.1:{free_port()}"}]}
    if dns is not None:
        geo["dns"] = dns
    return {"tier": "geo", "workers": 2, "listen": [{"address": f"127.0.0.1:{free_port()}"}], "geo": geo}


def ns_query_udp(port, payload=4096, qid=0x5151):
    return udp_exchange(Port(port), raw_query("cdn.example", 2, qid=qid, opt=b"", payload=payload))


def opt_payload(answer):
    """The UDP payload size in the answer's OPT record (the last record of the answer)."""
    i = answer.rfind(b"\0\x00\x29")  # root owner, type OPT
    assert i > 0, answer
    return struct.unpack("!H", answer[i + 3:i + 5])[0]


def when_a_tcp_slot_is_free(fn):
    """fn() retried while the server refuses it a connection: closed connections free their slots
    asynchronously."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return fn()
        except (ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_geo_dns_options_come_from_the_config(tiers):
    port = free_port()
    geo = tiers("geo", geo_config([port], {"tcp_max_connections": 2, "tcp_idle_timeout": "300ms",
                                          "max_udp_payload": 600})).start()
    # TCP cap: two connections are served, a third is closed at accept and counted.
    conns = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
    try:
        for i, c in enumerate(conns):
            c.sendall(frame(raw_query("cdn.example", 6, qid=i)))
            assert answer_id(tcp_read_answer(c)) == i
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(frame(raw_query("cdn.example", 6, qid=9)))
            with pytest.raises((ConnectionError, OSError)):
                tcp_read_answer(c)
        assert geo.metric("cdn_dns_tcp_refused_total") >= 1
    finally:
        for c in conns:
            c.close()
    # Payload: our OPT says 600 and a UDP answer stays within it (TC), whatever the requester offers.
    full = when_a_tcp_slot_is_free(lambda: tcp_query(port, raw_query("cdn.example", 2, opt=b"", payload=4096)))
    assert 600 < len(full) <= 1232 and not full[2] & 0x02
    a = ns_query_udp(port)
    assert opt_payload(a) == 600 and len(a) <= 600 and a[2] & 0x02

    # Idle timeout: after its answer, a connection that sends half a length prefix is closed after
    # about 300 ms (the answer shows it was accepted, not refused at the cap).
    def idle_closed_after():
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(frame(raw_query("cdn.example", 6, qid=3)))
            assert answer_id(tcp_read_answer(c)) == 3
            c.sendall(b"\x00")
            t0 = time.monotonic()
            if c.recv(1) != b"":
                raise AssertionError("an answer to half a length prefix")
            return time.monotonic() - t0
    elapsed = when_a_tcp_slot_is_free(idle_closed_after)
    assert 0.2 < elapsed < 5, elapsed


def tcp_query(port, packet):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(frame(packet))
        return tcp_read_answer(c)


def test_geo_dns_defaults_without_the_section(tiers):
    port = free_port()
    tiers("geo", geo_config([port])).start()
    a = ns_query_udp(port)
    assert opt_payload(a) == 1232 and not a[2] & 0x02  # the whole answer fits 1232


def test_geo_dns_options_are_checked_with_file_and_line(tmp_path):
    bad = tmp_path / "geo.yaml"
    cfg = geo_config([free_port()], {"tcp_max_connections": 0, "tcp_idle_timeout": "forever",
                                     "max_udp_payload": 100, "udp_workers": 3})
    bad.write_text(to_yaml(cfg) + "\n")
    lines = bad.read_text().splitlines()
    line_of = {k: next(i + 1 for i, l in enumerate(lines) if l.strip().startswith(k + ":"))
               for k in ("tcp_max_connections", "tcp_idle_timeout", "max_udp_payload", "udp_workers")}
    r = subprocess.run([str(program_path("geo")), "--config", str(bad), "--check-config"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    for key, line in line_of.items():
        assert f"{bad}:{line}: geo.dns.{key}" in r.stderr, (key, r.stderr)


def answers_on(port):
    try:
        return rcode(ns_query_udp(port, qid=port & 0xFFFF)) == 0
    except OSError:  # timeout or refused: nothing listens there
        return False


def test_sighup_moves_dns_listen_binding_the_new_address_first(tiers):
    old, new = free_port(), free_port()
    geo = tiers("geo", geo_config([old])).start()
    assert answers_on(old)
    cfg = geo_config([new], {"max_udp_payload": 700})
    cfg["admin"], cfg["listen"] = geo.config["admin"], geo.config["listen"]
    geo.config_path.write_text(to_yaml(cfg) + "\n")
    geo.signal(signal.SIGHUP)
    wait_until(lambda: answers_on(new), timeout=10, what="the new dns_listen address answers")
    wait_until(lambda: not answers_on(old), timeout=10, what="the old address closed")
    assert opt_payload(ns_query_udp(new)) == 700  # the options moved with it
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", old), timeout=2).close()
    # The same address with other options: the running listener takes them.
    cfg["geo"]["dns"] = {"max_udp_payload": 900}
    geo.config_path.write_text(to_yaml(cfg) + "\n")
    geo.signal(signal.SIGHUP)
    wait_until(lambda: opt_payload(ns_query_udp(new)) == 900, timeout=10, what="the new payload size in use")
    # An address that cannot be bound: the reload is refused, nothing moves.
    cfg["geo"]["dns_listen"] = [f"127.0.0.1:{new}", "192.0.2.99:53"]  # not an address of this host
    geo.config_path.write_text(to_yaml(cfg) + "\n")
    geo.signal(signal.SIGHUP)
    wait_until(lambda: "geo reload failed" in geo.log_tail(20), timeout=10, what="reload refused")
    assert "192.0.2.99:53" in geo.log_tail(20)
    assert answers_on(new)
