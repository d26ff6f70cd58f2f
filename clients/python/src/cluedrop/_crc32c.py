"""CRC-32C (Castagnoli), the checksum of cluedrop's scored-shard payloads.

The iSCSI CRC of RFC 3720 (reflected polynomial 0x82F63B78, initial value and
final XOR 0xFFFFFFFF, unmasked), as docs/shard-format.md and shard/crc32c.h
define it. Pure Python, table-driven (slicing by 8); when the optional
``crc32c`` package is installed its C implementation is used instead.

Example:
    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    >>> crc32c(b"6789", crc32c(b"12345")) == crc32c(b"123456789")
    True
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["crc32c", "crc32c_pure"]

_POLY = 0x82F63B78


def _tables() -> list[list[int]]:
    """T[0] is the byte-wise table; T[k][b] is T[0] advanced k more zero bytes."""
    first = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        first.append(c)
    tables = [first]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[b] >> 8) ^ first[prev[b] & 0xFF] for b in range(256)])
    return tables


_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = _tables()


def crc32c_pure(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-32C of `data`, continuing from `crc` (the CRC of the bytes before
    it; 0 to start). Pure Python, about 10-20 MB/s."""
    view = memoryview(data).cast("B")
    c = crc ^ 0xFFFFFFFF
    n = len(view)
    whole = n - n % 8
    t0, t1, t2, t3, t4, t5, t6, t7 = _T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7
    from_bytes = int.from_bytes
    for i in range(0, whole, 8):
        lo = c ^ from_bytes(view[i:i + 4], "little")
        hi = from_bytes(view[i + 4:i + 8], "little")
        c = (t7[lo & 0xFF] ^ t6[(lo >> 8) & 0xFF] ^ t5[(lo >> 16) & 0xFF] ^ t4[lo >> 24]
             ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24])
    for i in range(whole, n):
        c = (c >> 8) ^ t0[(c ^ view[i]) & 0xFF]
    return c ^ 0xFFFFFFFF


def _accelerated() -> Callable[[bytes | bytearray | memoryview, int], int] | None:
    """The optional ``crc32c`` package's function (same definition), if importable."""
    try:
        import crc32c as _native  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    native: Callable[..., int] = _native.crc32c

    def run(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
        return int(native(bytes(data), crc))

    return run if run(b"123456789", 0) == 0xE3069283 else None


_NATIVE = _accelerated()


def crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-32C of `data`, continuing from `crc` (0 to start)."""
    if _NATIVE is not None:
        return _NATIVE(data, crc)
    return crc32c_pure(data, crc)
