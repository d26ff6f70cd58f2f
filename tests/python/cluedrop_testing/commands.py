"""Running the program under test (the `cluedrop` CLI, promtool, a daemon's
--help) from a test script.

Example:
    proc = run([cli, "tokenize", "--text", "x"], timeout=60)
    if proc.returncode != 2: ...
    scores = run_ok([cli, "score", ...])   # stdout; fail() unless exit 0
"""

import subprocess
from collections.abc import Mapping, Sequence

from .report import fail


def run(argv: Sequence[str], *, timeout: float | None = None,
        env: Mapping[str, str] | None = None, input: str | None = None,
        cwd: str | None = None) -> "subprocess.CompletedProcess[str]":
    """Runs `argv` with stdout and stderr captured as text. `env` replaces
    the environment (as subprocess's). Never checks the exit code; raises
    subprocess.TimeoutExpired after `timeout` seconds."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env,
                          input=input, cwd=cwd)


def run_ok(argv: Sequence[str], *, timeout: float | None = None,
           env: Mapping[str, str] | None = None, input: str | None = None,
           cwd: str | None = None, tail_chars: int = 3000) -> str:
    """run(), then fail() with the command line, the exit code and the last
    `tail_chars` characters of stderr unless it exited 0. Returns stdout."""
    proc = run(argv, timeout=timeout, env=env, input=input, cwd=cwd)
    if proc.returncode != 0:
        fail(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stderr[-tail_chars:]}")
    return proc.stdout
