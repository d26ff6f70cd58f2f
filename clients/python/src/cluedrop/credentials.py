"""Where the coordinator is and how to prove who you are: the same settings,
environment variables and rules as the ``cluedrop`` CLI's job commands
(cli/job_client.cc, auth/secret_file.cc, runtime/channel.cc).

  address     ``$CLUEDROP_COORDINATOR``, default ``127.0.0.1:50051``
  token       ``$CLUEDROP_TOKEN``: sent as ``authorization: Bearer <token>``
  token_file  ``$CLUEDROP_TOKEN_FILE``: a file holding the token; it must be a
              regular file that other users cannot read (chmod 600, or 640 for
              a group), at most 1 MiB, one line of printable characters
  tls         connect with TLS (system roots unless tls_ca); implied by any of
  tls_ca      PEM roots that verify the coordinator
  tls_cert    PEM client certificate (mutual TLS; with tls_key)
  tls_key     PEM client key

An argument wins over its environment variable; an empty variable counts as
unset. token and token_file (from arguments or the environment) are
exclusive.

Example:
    >>> settings = ConnectionSettings.resolve(token_file="creds/submitter.token")
    >>> settings.metadata()
    (('authorization', 'Bearer ...'),)
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc

from .errors import CredentialsError

__all__ = ["DEFAULT_ADDRESS", "ConnectionSettings", "read_token_file"]

DEFAULT_ADDRESS = "127.0.0.1:50051"
# auth/secret_file.cc: "Secrets are small; a bigger file is not a token file."
_MAX_SECRET_BYTES = 1 << 20
# runtime/channel.h ChannelOptions defaults.
_KEEPALIVE_TIME_MS = 30000
_KEEPALIVE_TIMEOUT_MS = 10000
_MAX_MESSAGE_BYTES = 64 << 20


def _open_error(error: OSError, what: str, path: str) -> CredentialsError:
    message = f"{what} {path}: {os.strerror(error.errno or 0)}"
    if error.errno == errno.ENOENT:
        return CredentialsError(grpc.StatusCode.NOT_FOUND, message)
    if error.errno in (errno.EACCES, errno.EPERM):
        return CredentialsError(grpc.StatusCode.PERMISSION_DENIED, message)
    return CredentialsError(grpc.StatusCode.FAILED_PRECONDITION, message)


def read_token_file(path: str, what: str = "token_file") -> str:
    """The bearer token in the file at `path`, as ``cluedrop --token_file``
    reads it (auth/secret_file.cc ReadTokenFile): a regular file without any
    permission bit for other users, at most 1 MiB, whose content stripped of
    ASCII whitespace is one run of printable characters without spaces.
    `what` names the setting in messages. Raises CredentialsError."""
    try:
        # O_NONBLOCK: a FIFO planted at the path must not block the open.
        flags = os.O_RDONLY
        for name in ("O_CLOEXEC", "O_NOCTTY", "O_NONBLOCK"):  # POSIX only
            flags |= getattr(os, name, 0)
        fd = os.open(path, flags)
    except OSError as e:
        raise _open_error(e, what, path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CredentialsError(grpc.StatusCode.FAILED_PRECONDITION,
                                   f"{what} {path}: not a regular file")
        if st.st_mode & stat.S_IRWXO:
            raise CredentialsError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{what} {path}: mode {st.st_mode & 0o7777:04o} lets every local user read it; "
                "restrict it (chmod 600, or 640 for a group) and retry")
        if st.st_size > _MAX_SECRET_BYTES:
            raise CredentialsError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"{what} {path}: {st.st_size} bytes; a credential file is at most "
                f"{_MAX_SECRET_BYTES}")
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as e:
        raise _open_error(e, what, path) from None
    finally:
        os.close(fd)
    token = b"".join(chunks).strip(b" \t\n\v\f\r")
    if not token:
        raise CredentialsError(grpc.StatusCode.INVALID_ARGUMENT, f"{what} {path}: empty")
    if any(c <= 0x20 or c == 0x7F for c in token):
        raise CredentialsError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{what} {path}: a token is one line of printable characters without spaces")
    return token.decode("utf-8", errors="surrogateescape")


def _read_pem(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CredentialsError(grpc.StatusCode.NOT_FOUND,
                               f"{what}: cannot read {path}: {e.strerror}") from None


@dataclass(frozen=True)
class ConnectionSettings:
    """Resolved connection settings (see the module docstring); build them
    with resolve(). The token is kept out of repr()."""
    address: str
    token: str = field(default="", repr=False)
    tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    @staticmethod
    def resolve(address: str | None = None, *, token: str | None = None,
                token_file: str | os.PathLike[str] | None = None, tls: bool = False,
                tls_ca: str | os.PathLike[str] | None = None,
                tls_cert: str | os.PathLike[str] | None = None,
                tls_key: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> ConnectionSettings:
        """Fills each unset argument from its environment variable (`environ`,
        default os.environ), then reads the token file. Raises
        CredentialsError for token + token_file, an unusable token file, or a
        TLS certificate without its key (or the reverse)."""
        env = os.environ if environ is None else environ

        def pick(value: str | os.PathLike[str] | None, var: str) -> str:
            if value is not None and os.fspath(value) != "":
                return os.fspath(value)
            return env.get(var, "")

        address_value = pick(address, "CLUEDROP_COORDINATOR") or DEFAULT_ADDRESS
        token_value = pick(token, "CLUEDROP_TOKEN")
        token_file_value = pick(token_file, "CLUEDROP_TOKEN_FILE")
        if token_value and token_file_value:
            raise CredentialsError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "give token or token_file (CLUEDROP_TOKEN or CLUEDROP_TOKEN_FILE), not both")
        if token_file_value:
            token_value = read_token_file(token_file_value)
        ca, cert, key = (os.fspath(p) if p else None for p in (tls_ca, tls_cert, tls_key))
        if bool(cert) != bool(key):
            raise CredentialsError(grpc.StatusCode.INVALID_ARGUMENT,
                                   "tls_cert and tls_key must be given together")
        use_tls = bool(tls or ca or cert or key)
        return ConnectionSettings(address_value, token_value, use_tls, ca, cert, key)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The call metadata: the bearer token, when there is one."""
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    def channel(self) -> grpc.Channel:
        """A new channel to the coordinator with the CLI's settings: keepalive
        (30 s, 10 s ack timeout), 64 MiB messages, and retries of calls that
        fail with UNAVAILABLE (5 attempts, backoff 0.1 s doubling to 5 s).
        Connects lazily."""
        service_config = {"methodConfig": [{
            "name": [{}],
            "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.100s",
                            "maxBackoff": "5.000s", "backoffMultiplier": 2,
                            "retryableStatusCodes": ["UNAVAILABLE"]}}]}
        options = [
            ("grpc.keepalive_time_ms", _KEEPALIVE_TIME_MS),
            ("grpc.keepalive_timeout_ms", _KEEPALIVE_TIMEOUT_MS),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.service_config", json.dumps(service_config)),
        ]
        if not self.tls:
            return grpc.insecure_channel(self.address, options=options)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=_read_pem(self.tls_ca, "tls_ca") if self.tls_ca else None,
            private_key=_read_pem(self.tls_key, "tls_key") if self.tls_key else None,
            certificate_chain=_read_pem(self.tls_cert, "tls_cert") if self.tls_cert else None)
        return grpc.secure_channel(self.address, credentials, options=options)
