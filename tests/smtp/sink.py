"""A real SMTP server (aiosmtpd) for the notification tests: accepts every message on a free loopback port and
appends it, parsed, as one JSON line to a file; prints the port on stdout once it listens, then each message's line.

    python tests/smtp/sink.py OUT.jsonl

Each line: {"mail_from", "rcpt_tos" (the envelope), "from", "to", "subject", "body" (decoded text)}. The line is
written and flushed before the server answers 250, so a client that saw its message accepted finds it in the file.
"""

import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "body": body.get_content().replace("\r\n", "\n") if body is not None else "",
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
            out.flush()
        # One line per message on stdout: what a test waiting for a message waits on.
        print(json.dumps(record), flush=True)
        return "250 Message accepted for delivery"


async def main(path):
    loop = asyncio.get_running_loop()
    handler = Sink(path)
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test"), host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sink.py OUT.jsonl")
    try:
        asyncio.run(main(sys.argv[1]))
    except KeyboardInterrupt:
        pass
