"""An independent reader of cluedrop's shard files (docs/shard-format.md):
CRC-32C (Castagnoli) written from its definition, and the header check.
Tests use it to verify what the coordinator stored without its own code."""

import struct

from .report import fail


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of `data` (continuing `crc`)."""
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the check value of the definition


def read_shard_file(path: str) -> tuple[int, int]:
    """Parses a shard file's header and checks both CRCs; returns
    (document count, payload CRC-32C). fail()s on any mismatch."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 32 or data[:8] != b"CLDSHRD\0":
        fail(f"{path}: not a shard file")
    _version, count, payload_bytes, payload_crc, header_crc = struct.unpack("<IIQII", data[8:32])
    if crc32c(data[:28]) != header_crc:
        fail(f"{path}: header CRC mismatch")
    payload = data[32:]
    if len(payload) != payload_bytes:
        fail(f"{path}: payload is {len(payload)} bytes, header says {payload_bytes}")
    if crc32c(payload) != payload_crc:
        fail(f"{path}: payload CRC mismatch")
    return count, payload_crc
