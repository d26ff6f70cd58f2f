"""Printing the tails of log files (the daemons' logs when a check fails).

Example:
    dump_logs(cluster.log_paths())
"""

from collections.abc import Iterable


def dump_logs(paths: Iterable[str], chars: int = 3000) -> None:
    """Prints "---- PATH (tail)" and the last `chars` characters of each
    file; a file that cannot be read is skipped. Each path once."""
    seen = set()
    for path in paths:
        if path in seen:
            continue
        seen.add(path)
        try:
            with open(path, errors="replace") as f:
                tail = f.read()[-chars:]
        except OSError:
            continue
        print(f"---- {path} (tail)\n{tail}", flush=True)
