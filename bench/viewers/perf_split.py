"""Where a process's CPU went, by the work a viewer's join and playback cost, from a
`perf record --call-graph dwarf` profile (run.sh's VIEWERS_PERF). Each sample goes to the first
marker found walking its stack from the leaf up, so the shares add up to 100 %: a signature inside a
handshake counts as the signature, the rest of the handshake as "handshake, other".
Debian's OpenSSL has no symbols for its internals: its work is told apart by the exported calls
(EVP_*, d2i, SSL_new) on the stack.

    python3 perf_split.py PERF_DATA edge|sim
"""
import collections
import subprocess
import sys

# (category, symbol prefixes), matched in this order at each frame from the leaf up.
COMMON_LEAVES = [
    ("page faults (memory first touched)", ["asm_exc_page_fault"]),
    ("socket writes (kernel)", ["__GI___libc_write", "__GI___writev", "__libc_write", "writev"]),
    ("socket reads (kernel)", ["__GI___libc_read", "__libc_read", "read"]),
    ("epoll", ["epoll_wait", "epoll_ctl", "__GI_epoll_wait"]),
    ("accept/connect/close (kernel)", ["accept4", "__libc_accept4", "__GI___connect", "__connect",
                                        "__GI___close", "__close", "close"]),
    ("TLS record encryption", ["EVP_EncryptUpdate", "EVP_EncryptFinal_ex"]),
    ("TLS record decryption", ["EVP_DecryptUpdate", "EVP_DecryptFinal_ex"]),
]
MARKERS = {
    "edge": COMMON_LEAVES + [
        ("TLS handshake: ECDSA P-256 sign (CertificateVerify)", ["EVP_DigestSign"]),
        ("TLS handshake: ECDHE key share", ["EVP_PKEY_generate", "EVP_PKEY_keygen"]),
        ("TLS handshake: ECDHE shared secret", ["EVP_PKEY_derive"]),
        ("TLS: SSL_new / SSL_free per connection", ["SSL_new", "SSL_free"]),
        ("token check: ES256 signature", ["cdn::auth::Key::verify"]),
        ("token check: the rest (hash, cache, claims)", ["cdn::auth::Verifier::verify"]),
        ("TLS handshake and record input, other", ["cdn::net::TlsSession::feed"]),
        ("TLS record output, other", ["cdn::net::TlsSession::write_to"]),
        ("access gate, other (stream sessions)", ["cdn::edge::EdgePhases::request_filter"]),
        ("playlist rewrite", ["cdn::edge::EdgePhases::transform_body"]),
        ("HTTP: parse, proxy, respond", ["cdn::http::ServerConnection::on_stream_read"]),
        ("write path, other (progress, pump)", ["cdn::net::Stream::on_write", "cdn::proxy::Delivery::on_wake",
                                                "cdn::http::ServerConnection::on_stream_progress"]),
        ("accept and connection setup", ["cdn::net::Listener::on_connection", "cdn::http::HttpServer::accept"]),
        ("timers and ticks", ["cdn::http::ServerConnection::on_tick", "cdn::net::TickList"]),
    ],
    "sim": COMMON_LEAVES + [
        ("TLS handshake: certificate parsing (d2i)", ["ASN1_item_d2i", "d2i_X509", "X509_get_pubkey",
                                                      "X509_get0_pubkey"]),
        ("TLS handshake: certificate chain check", ["X509_verify_cert"]),
        ("TLS handshake: server signature check (CertificateVerify)", ["EVP_DigestVerify"]),
        ("TLS handshake: ECDHE key share", ["EVP_PKEY_generate", "EVP_PKEY_keygen"]),
        ("TLS handshake: ECDHE shared secret", ["EVP_PKEY_derive"]),
        ("TLS: SSL_new / SSL_free per connection", ["SSL_new", "SSL_free"]),
        ("token signing: ES256", ["cdn::auth::Key::sign"]),
        ("token signing: JSON and the rest", ["cdn::viewers::PlayerProcess::token_for"]),
        ("TLS handshake and record input, other", ["cdn::net::TlsSession::feed", "cdn::viewers::ClientTls::feed",
                                                   "cdn::viewers::ClientTls::start", "cdn::viewers::ClientTls::step",
                                                   "cdn::viewers::ClientTls::drain"]),
        ("TLS record output, other", ["cdn::net::TlsSession::write_to", "cdn::viewers::ClientTls::write"]),
        ("HTTP response parsing", ["cdn::http::ResponseParser"]),
        ("playlist parsing", ["cdn::viewers::PlaylistTracker::apply", "cdn::hls::parse_master"]),
        ("per-second accounting", ["cdn::viewers::PlayerProcess::on_tick"]),
        ("players, other", ["cdn::viewers::"]),
    ],
}
OTHER_KERNEL = "kernel, other"
OTHER = "other"


def stacks(data):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True, text=True,
                         check=True).stdout
    frames = []
    for line in out.splitlines():
        line = line.strip()
        if not line:
            if frames:
                yield frames
            frames = []
            continue
        parts = line.split(None, 1)
        frames.append((parts[0], parts[1].replace(" (inlined)", "") if len(parts) > 1 else ""))
    if frames:
        yield frames


def categorize(frames, markers):
    for _, sym in frames:
        for category, prefixes in markers:
            if any(sym == p or sym.startswith(p) for p in prefixes):
                return category
    leaf_ip = frames[0][0]
    return OTHER_KERNEL if leaf_ip.startswith("ffffffff") else OTHER


def main():
    data, side = sys.argv[1], sys.argv[2]
    counts = collections.Counter(categorize(f, MARKERS[side]) for f in stacks(data))
    total = sum(counts.values())
    print(f"| {side}: where the CPU went ({total} samples) | share |")
    print("| --- | ---: |")
    for category, n in counts.most_common():
        print(f"| {category} | {100 * n / total:.1f} % |")


if __name__ == "__main__":
    main()
