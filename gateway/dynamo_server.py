"""The embedded DynamoDB-compatible endpoint: moto's server app, one request at a time.

moto's own server is threaded, and its DynamoDB backend does not lock: two conditional writes that
race can both pass their condition. Serving requests one by one makes every condition check and
write atomic, as they are in DynamoDB. Run as `python -m gateway.dynamo_server HOST PORT`.
"""

from __future__ import annotations

import signal
import sys

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
