"""Free loopback ports.

Example:
    port = free_port()
    address = f"127.0.0.1:{port}"
"""

import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that nothing listens on at `host` right now.

    The port is only free when this returns: another process may take it
    before the caller binds it. Daemons whose address nobody needs to know
    in advance should listen on port 0 instead and report the port in their
    ready file.
    """
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
