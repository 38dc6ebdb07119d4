"""cdn-geo's DNS server with real clients: `dig` (and `kdig` from knot-dnsutils) and raw packets
from Python, against geo_dns_test_server (the real DnsServer and answer_query serving a fixed zone
with a deterministic fake Steering, see tests/unit/geo_dns/fake_steering.h).

Zone cdn.example: NS ns1/ns2 (glue 192.0.2.53, 2001:db8::53, 198.51.100.53); delivery hosts
video (A 127.0.0.11 127.0.0.12, AAAA 2001:db8::11; ECS scope = source prefix cut to /24 or /56),
noecs (ECS off) and deep.eu; edge names edge-a (127.0.0.11, ::1) and edge-b (127.0.0.12).
"""
import os
import random
import re
import shutil
import socket
import struct
import subprocess

import pytest

from conftest import build_dir, under_sanitizer

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
