#!/usr/bin/env python3
"""A real SMTP server on loopback for the API tests (tests/lib/smtp-sink.mjs drives it).

    python3 tests/lib/smtp_sink.py --dir DIR [--host 127.0.0.1] [--port 0]

Listens with aiosmtpd (Debian: python3-aiosmtpd), prints one line "READY <port>" on stdout once it
accepts connections, and saves every message it receives as DIR/<seq>.eml (the bytes exactly as the
client sent them in DATA) next to DIR/<seq>.json ({"seq", "mail_from", "rcpt_tos", "peer", "size"}).
Both files are written to a temporary name first and renamed, the .json last, so a reader that sees
a .json finds the whole message. While a file DIR/.fail exists, every DATA is answered with
"451 4.3.0 Try again later" (a temporary failure: the client must retry later). Stops on SIGTERM or
when stdin closes.
"""
import argparse
import asyncio
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.seq = 0

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.folder, ".fail")):
            return "451 4.3.0 Try again later"
        self.seq += 1
        name = "%06d" % self.seq
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode("utf-8")
        meta = {
            "seq": self.seq,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": str(session.peer[0]) if session.peer else None,
            "size": len(raw),
        }
        eml = os.path.join(self.folder, name + ".eml")
        with open(eml + ".tmp", "wb") as f:
            f.write(raw)
        os.rename(eml + ".tmp", eml)
        js = os.path.join(self.folder, name + ".json")
        with open(js + ".tmp", "w") as f:
            json.dump(meta, f)
        os.rename(js + ".tmp", js)
        return "250 2.0.0 OK saved as " + name


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    handler = Sink(a.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", decode_data=False, enable_SMTPUTF8=True),
        host=a.host,
        port=a.port,
    )
    port = server.sockets[0].getsockname()[1]
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    # The parent going away (stdin closed) also stops the sink.
    loop.add_reader(sys.stdin.fileno(), lambda: (sys.stdin.buffer.read1(4096) or done.set()))
    print("READY %d" % port, flush=True)
    await done.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
