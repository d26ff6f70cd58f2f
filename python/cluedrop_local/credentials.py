"""Throwaway credentials for a local cluster (docs/security.md): one random
bearer token per role, the coordinator's token table and one token file per
caller, all mode 0600 in a directory of their own.

Example:
    creds = Credentials.generate("/tmp/cluster/credentials")
    coordinator_args = [f"--auth_token_file={creds.table}"]
    scorer_args = [f"--token_file={creds.token_file('scorer')}"]
    env = {"CLUEDROP_TOKEN_FILE": creds.token_file("submitter")}
"""

import os
import secrets
from dataclasses import dataclass

# identity -> roles it holds in the generated table.
ROLES: dict[str, str] = {
    "submitter": "submitter",
    "scorer": "scorer",
    "trainer": "trainer",
    "admin": "submitter,admin",
}


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)  # also when the file existed with another mode


@dataclass(frozen=True)
class Credentials:
    """Paths of a generated token table and its per-identity token files."""
    directory: str
    tokens: dict[str, str]

    @property
    def table(self) -> str:
        """The coordinator's --auth_token_file."""
        return os.path.join(self.directory, "tokens")

    def token_file(self, identity: str) -> str:
        """The --token_file (CLUEDROP_TOKEN_FILE) of `identity`."""
        if identity not in self.tokens:
            raise KeyError(f"no credentials for {identity!r} (have {sorted(self.tokens)})")
        return os.path.join(self.directory, f"{identity}.token")

    @staticmethod
    def generate(directory: str, identities: dict[str, str] | None = None) -> "Credentials":
        """Writes fresh random tokens for `identities` ({name: roles},
        default ROLES) under `directory` (created 0700)."""
        identities = identities or ROLES
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
        tokens = {name: secrets.token_urlsafe(32) for name in identities}
        lines = ["# token identity roles (generated; keep this file private)"]
        lines += [f"{tokens[name]} {name} {roles}" for name, roles in identities.items()]
        creds = Credentials(directory, tokens)
        _write_private(creds.table, "\n".join(lines) + "\n")
        for name, token in tokens.items():
            _write_private(creds.token_file(name), token + "\n")
        return creds
