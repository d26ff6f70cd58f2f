"""Start real cluedrop daemons on this machine: the test harness of the
cross-component tests and the demo's local cluster (Kudu's External
MiniCluster idea).

  free_port()       a free loopback TCP port
  Daemon            one daemon binary: --ready_file, a log file, SIGTERM with
                    a grace period then SIGKILL, kill9() and restart()
  LocalCluster      a coordinator, N scorers and M trainer ranks in one work
                    directory, a context manager; each caller authenticates
                    with generated throwaway tokens (Credentials)
  Credentials       a random token per role, the coordinator's token table
                    and the callers' token files (mode 0600)

Standard library only. Import it with PYTHONPATH=<source>/python (ctest and
`cluedrop demo` set it) or after `pip install ./python`.

Example:
    from cluedrop_local import LocalCluster

    with LocalCluster("build/bin", "/tmp/c", scorers=2) as cluster:
        print(cluster.cli("list", "--json").stdout)
"""

from .cluster import LocalCluster
from .credentials import Credentials
from .daemon import DEFAULT_READY_TIMEOUT_S, DEFAULT_STOP_GRACE_S, Daemon, DaemonStartError
from .ports import LOOPBACK, free_port

__all__ = ["Credentials", "DEFAULT_READY_TIMEOUT_S", "DEFAULT_STOP_GRACE_S", "Daemon",
           "DaemonStartError",
           "LOOPBACK", "LocalCluster", "free_port"]
