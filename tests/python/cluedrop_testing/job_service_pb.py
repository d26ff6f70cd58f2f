"""The few coordinator messages the abuse test sends, encoded by hand from
the protobuf wire format (no generated Python code; an independent check of
the encoding): WatchJobRequest, RegisterWorkerRequest, LeaseShardRequest,
and the worker id of a RegisterWorkerResponse.

Example:
    body = lease_request("w-1234", wait_ms=4000)
"""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(field: int, value: str) -> bytes:
    data = value.encode()
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _uint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def watch_request(job_id: str) -> bytes:
    """cluedrop.v1.WatchJobRequest{job_id}."""
    return _string(1, job_id)


def register_request(name: str) -> bytes:
    """cluedrop.v1.RegisterWorkerRequest{name}."""
    return _string(1, name)


def lease_request(worker_id: str, wait_ms: int) -> bytes:
    """cluedrop.v1.LeaseShardRequest{worker_id, wait_ms}."""
    return _string(1, worker_id) + _uint(2, wait_ms)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def worker_id(register_response: bytes) -> str:
    """Field 1 (worker_id) of a serialized RegisterWorkerResponse."""
    pos = 0
    while pos < len(register_response):
        key, pos = _read_varint(register_response, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            length, pos = _read_varint(register_response, pos)
            if field == 1:
                return register_response[pos:pos + length].decode()
            pos += length
        elif wire == 0:
            _, pos = _read_varint(register_response, pos)
        else:
            raise ValueError(f"unexpected wire type {wire}")
    raise ValueError("no worker_id in the response")
