"""An S3-compatible server for Natter's tests: moto's server mode on
127.0.0.1 and a free port. Prints "PORT <n>" once listening, then runs until
its stdin closes (so it dies with the test process that started it).

    python tests/s3/server.py
"""

import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
