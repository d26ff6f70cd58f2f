"""What a test script prints: progress lines, a failure that ends the
script, and checks that record failures and let the script go on.

Example:
    log("e2e: 2 scorers")
    on_failure(lambda: dump_logs(cluster.log_paths()))
    if state != "SUCCEEDED":
        fail(f"job {state}")        # prints "FAIL: job FAILED", runs the hooks, exit 1

    checks = Checks()
    checks.expect(got == want, f"{name}: got {got}, want {want}")
    sys.exit(1 if checks.failures else 0)
"""

import sys
from collections.abc import Callable
from typing import NoReturn

_failure_hooks: list[Callable[[], None]] = []


def log(message: str) -> None:
    """Prints `message` on stdout and flushes (ctest interleaves it with
    the daemons' output)."""
    print(message, flush=True)


def on_failure(hook: Callable[[], None]) -> None:
    """Runs `hook` (e.g. printing log tails, stopping processes) when fail()
    ends the script, after the FAIL line; hooks run in registration order."""
    _failure_hooks.append(hook)


def fail(message: str) -> NoReturn:
    """Prints "FAIL: `message`", runs the on_failure() hooks and exits 1
    (SystemExit, so `finally` blocks still run)."""
    print(f"FAIL: {message}", flush=True)
    hooks = list(_failure_hooks)
    _failure_hooks.clear()  # a hook that fails must not run the hooks again
    for hook in hooks:
        hook()
    sys.exit(1)


class Checks:
    """Counts checks and records failures without ending the script.

    Each failure is printed as `prefix` + message (the first `max_printed`
    of them when given). The script decides the exit code from `failures`.
    """

    def __init__(self, prefix: str = "FAIL: ", max_printed: int | None = None) -> None:
        self.prefix = prefix
        self.max_printed = max_printed
        self.checks = 0
        self.messages: list[str] = []

    @property
    def failures(self) -> int:
        """How many checks failed."""
        return len(self.messages)

    def fail(self, message: str) -> None:
        """Records (and prints) one failed check."""
        self.checks += 1
        self.messages.append(message)
        if self.max_printed is None or len(self.messages) <= self.max_printed:
            print(self.prefix + message, flush=True)

    def expect(self, ok: bool, message: str) -> bool:
        """One check: records `message` as a failure unless `ok`. Returns `ok`."""
        if ok:
            self.checks += 1
        else:
            self.fail(message)
        return ok
