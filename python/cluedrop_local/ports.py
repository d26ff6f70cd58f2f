"""Free loopback ports.

Example:
    port = free_port()
    address = f"127.0.0.1:{port}"
"""

import random
import socket

LOOPBACK = "127.0.0.1"
# Where free_port() looks: below the kernel's ephemeral range, which is
# where every `bind(port 0)` is served from (read at import; Linux default).
_EPHEMERAL_DEFAULT = (32768, 60999)
_LOWEST = 10000
_TRIES = 200


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ephemeral port range (ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(v) for v in f.read().split())
            return low, high
    except (OSError, ValueError):
        return _EPHEMERAL_DEFAULT


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK, rng: random.Random | None = None) -> int:
    """A TCP port that nothing listens on at `host` right now.

    The port is only free when this returns: another process may take it
    before the caller binds it. To make that unlikely it is drawn at random
    from below the kernel's ephemeral range: a daemon that listens on port 0
    (every daemon's metrics and gRPC listeners in the tests) gets its port
    from that range, so it can never be handed a port picked here and not
    bound yet (which once made a trainer's metrics listener take its own
    c10d store port). Falls back to a kernel-chosen port when the range
    below is unusable.
    """
    rng = rng or random.SystemRandom()
    low, _ = ephemeral_range()
    if low - _LOWEST >= 1000:
        for _ in range(_TRIES):
            port = rng.randrange(_LOWEST, low)
            if _bindable(host, port):
                return port
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
