"""Process memory from /proc/self/status, for the Python sides of the
benchmarks (the C++ side's twin is bench/proc_memory.h)."""


def proc_status_bytes(field):
    """The /proc/self/status field (e.g. VmRSS, VmHWM) in bytes; 0 if absent."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0
