"""A job's scored documents, as ``cluedrop results`` downloads them
(cli/results_command.cc): TrainService.StreamShards over every trainer rank's
partition, each shard's CRC-32C recomputed over its documents and checked
against the coordinator's, documents in corpus order. A stream the
coordinator ends early (a restart, a server limit) is resumed at the rank's
next shard.

Each document is a dict, the JSON object of ``cluedrop results`` /
``cluedrop score``:

    {"id": str, "text": str, "tokens": [int], "offsets": [[begin, end]],
     "received_large": [float | None], "received_small": [...],
     "contrast": [...], "qa_items": [{"subject", "field", "answer"}]}

``offsets`` are UTF-8 byte spans of the tokens in ``text``; scores are the
float32 values widened to float, NaN (a token without a score) as None.

Example:
    >>> docs = job.results()
    >>> for doc in docs:                     # streams; shards still being scored are waited for
    ...     print(doc["id"], max(x for x in doc["contrast"] if x is not None))
    >>> frame = job.results().to_pandas()    # one row per document
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import grpc

from ._crc32c import crc32c
from .errors import CluedropError, error_from_rpc
from .v1 import scored_pb2, train_service_pb2, train_service_pb2_grpc

if TYPE_CHECKING:
    import datasets
    import pandas

__all__ = ["ScoredDocuments", "document_dict", "payload_crc"]

_log = logging.getLogger("cluedrop")
_MAX_STREAM_RESUMES = 20
_RESUMABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)

Document = dict[str, Any]


def _scores(values: Iterable[float]) -> list[float | None]:
    return [None if math.isnan(x) else x for x in values]


def document_dict(d: scored_pb2.ScoredDocument) -> Document:
    """The dict of one ScoredDocument (the module docstring's format)."""
    offsets = list(d.offsets)
    return {
        "id": d.id,
        "text": d.text,
        "tokens": list(d.tokens),
        "offsets": [[offsets[k], offsets[k + 1]] for k in range(0, len(offsets) - 1, 2)],
        "received_large": _scores(d.received_large),
        "received_small": _scores(d.received_small),
        "contrast": _scores(d.contrast),
        "qa_items": [{"subject": q.subject, "field": q.field, "answer": q.answer}
                     for q in d.qa_items],
    }


def payload_crc(documents: Iterable[scored_pb2.ScoredDocument]) -> int:
    """CRC-32C of a shard's payload (docs/shard-format.md): each document as
    a u32 little-endian length and its serialized bytes."""
    crc = 0
    for d in documents:
        data = d.SerializeToString()
        crc = crc32c(len(data).to_bytes(4, "little"), crc)
        crc = crc32c(data, crc)
    return crc


class ScoredDocuments(Iterable[Document]):
    """The scored documents of one job; iterate it (each iteration streams
    them again from the coordinator) or collect them with to_list(),
    to_pandas() or to_dataset(). A shard whose checksum does not match
    raises CluedropError(DATA_LOSS) before any of its documents is yielded.
    Iteration blocks while shards are still being scored.

    ``shards`` and ``documents`` count what the latest iteration received.
    """

    def __init__(self, channel: grpc.Channel, job_id: str, world_size: int,
                 metadata: tuple[tuple[str, str], ...], target: str, *, verify: bool = True
                 ) -> None:
        self._stub = train_service_pb2_grpc.TrainServiceStub(  # type: ignore[no-untyped-call]
            channel)
        self.job_id = job_id
        self.world_size = max(1, world_size)
        self._metadata = metadata
        self._target = target
        self.verify = verify
        self.shards = 0
        self.documents = 0

    def _rank_shards(self, rank: int) -> Iterator[tuple[int, str, list[scored_pb2.ScoredDocument]]]:
        """(global shard index, shard id, documents) of one rank's partition;
        rank r's k-th shard has global index r + k * world_size. A stream
        that ends with UNAVAILABLE or RESOURCE_EXHAUSTED (a coordinator
        restart, a server limit) is resumed at the rank's next shard, up to
        20 times, after 1, 2, 4, 8, 10, 10, ... seconds."""
        cursor = 0
        for attempt in range(_MAX_STREAM_RESUMES + 1):
            request = train_service_pb2.StreamShardsRequest(job_id=self.job_id, rank=rank,
                                                            cursor=cursor)
            # No deadline: shards may still be scoring.
            stream = self._stub.StreamShards(request, metadata=self._metadata)
            pending: list[scored_pb2.ScoredDocument] = []
            try:
                for chunk in stream:
                    pending.extend(chunk.documents)
                    if not chunk.last:
                        continue
                    if self.verify:
                        crc = payload_crc(pending)
                        if crc != chunk.checksum:
                            raise CluedropError(
                                grpc.StatusCode.DATA_LOSS,
                                f"shard {chunk.shard_id}: checksum {crc} of the received "
                                f"documents differs from the stored {chunk.checksum}")
                    cursor = chunk.index + 1
                    yield rank + chunk.index * self.world_size, chunk.shard_id, pending
                    pending = []
                return
            except grpc.RpcError as e:
                code = e.code()
                if code not in _RESUMABLE or attempt >= _MAX_STREAM_RESUMES:
                    raise error_from_rpc(e, target=self._target) from None
                _log.warning("cluedrop results %s: stream of rank %d ended (%s); resuming at "
                             "shard %d", self.job_id, rank, e.details(),
                             cursor)
            finally:
                stream.cancel()
            time.sleep(min(2 ** min(attempt, 4), 10))

    def iter_shards(self) -> Iterator[tuple[str, list[Document]]]:
        """(shard id, its documents) in corpus order, verified."""
        self.shards = self.documents = 0
        ranks = [self._rank_shards(r) for r in range(self.world_size)]
        key: Callable[[tuple[int, str, list[scored_pb2.ScoredDocument]]], int] = lambda s: s[0]
        for _, shard_id, docs in heapq.merge(*ranks, key=key):
            self.shards += 1
            self.documents += len(docs)
            yield shard_id, [document_dict(d) for d in docs]

    def __iter__(self) -> Iterator[Document]:
        for _, docs in self.iter_shards():
            yield from docs

    def to_list(self) -> list[Document]:
        """Every document, in corpus order."""
        return list(self)

    def to_pandas(self) -> pandas.DataFrame:
        """A pandas DataFrame, one row per document, the dict keys as columns
        (list-valued cells for tokens, offsets, scores and qa_items).
        ImportError when pandas is not installed (pip install cluedrop[pandas])."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from e
        columns = ["id", "text", "tokens", "offsets", "received_large", "received_small",
                   "contrast", "qa_items"]
        return pd.DataFrame.from_records(self.to_list(), columns=columns)

    def to_dataset(self) -> datasets.Dataset:
        """A Hugging Face datasets.Dataset with the dict keys as features.
        ImportError when datasets is not installed (pip install datasets)."""
        try:
            import datasets as ds
        except ImportError as e:
            raise ImportError("to_dataset() needs datasets: pip install datasets") from e
        return ds.Dataset.from_list(self.to_list())
