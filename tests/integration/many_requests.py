"""Many concurrent HTTP/1.1 GETs from one asyncio loop, one connection each (hundreds of viewers
without hundreds of threads or processes). Each result says how its response ended: a body is
`complete` only when its Content-Length was all read or its last chunk arrived, so a response cut
short never passes for a shorter one."""
import asyncio
import time


class Result:
    def __init__(self, path):
        self.path = path
        self.status = None
        self.head = b""
        self.body = b""
        self.complete = False
        self.error = None  # an exception's name when the exchange failed (reset, refused, timeout)
        self.sent_at = self.first_byte_at = self.done_at = None

    def __repr__(self):
        return (f"Result({self.path} status={self.status} complete={self.complete} error={self.error} "
                f"body={len(self.body)}B)")


async def _read_chunked(reader, res):
    while True:
        line = await reader.readline()
        if not line.endswith(b"\r\n"):
            return  # EOF mid-body: not complete
        size = int(line.split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            res.complete = True
            return
        data = await reader.readexactly(size + 2)
        res.body += data[:size]


async def _get(port, path, res, host):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        res.error = type(e).__name__
        res.done_at = time.monotonic()
        return
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        res.sent_at = time.monotonic()
        first = await reader.read(1)
        if not first:
            return
        res.first_byte_at = time.monotonic()
        head = first + await reader.readuntil(b"\r\n\r\n")
        res.head = head
        res.status = int(head.split(b" ", 2)[1])
        headers = head.decode("latin-1").lower()
        if "transfer-encoding: chunked" in headers:
            await _read_chunked(reader, res)
        else:
            length = int(headers.split("content-length:")[1].split("\r\n")[0])
            res.body = await reader.readexactly(length)
            res.complete = True
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as e:
        res.error = type(e).__name__
        if isinstance(e, asyncio.IncompleteReadError):
            res.body += e.partial
    finally:
        res.done_at = time.monotonic()
        writer.close()


async def _all(port, paths, timeout, host):
    results = [Result(p) for p in paths]
    tasks = [asyncio.ensure_future(_get(port, p, r, host)) for p, r in zip(paths, results)]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for t in pending:
        t.cancel()
    for r, t in zip(results, tasks):
        if t in pending:
            r.error = "still-waiting"
    return results


def get_many(port, paths, timeout=20.0, host="127.0.0.1"):
    """GETs every path at once; returns one Result per path (in order) once all ended or timed
    out (those still waiting then have error "still-waiting")."""
    return asyncio.run(_all(port, paths, timeout, host))
