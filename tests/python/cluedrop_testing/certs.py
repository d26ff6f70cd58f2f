"""Test certificates made with the openssl CLI: a CA, server certificates for
localhost/127.0.0.1, and client certificates whose subject names an identity
(CN) and roles (OU), as the coordinator reads them (docs/security.md).

Example:
    ca = CertAuthority.create(work, "test-ca")
    server = ca.issue("server", "localhost", server=True)
    scorer = ca.issue("scorer-0", "scorer-0", roles=["scorer"])
    expired = ca.issue("old", "alice", roles=["submitter"], expired=True)
"""

import os
import subprocess
from dataclasses import dataclass


def _openssl(*args: str, cwd: str | None = None) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {proc.stderr.strip()}")


@dataclass(frozen=True)
class Cert:
    """A PEM certificate and its key (mode 0600)."""
    cert: str
    key: str


@dataclass(frozen=True)
class CertAuthority:
    directory: str
    cert: str
    key: str

    @staticmethod
    def create(work: str, name: str) -> "CertAuthority":
        """A self-signed CA (EC P-256) under WORK/NAME."""
        directory = os.path.join(work, name)
        os.makedirs(directory, exist_ok=True)
        key, cert = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        os.chmod(key, 0o600)
        # `openssl ca` (used for back-dated certificates) needs a database.
        open(os.path.join(directory, "index.txt"), "w").close()
        with open(os.path.join(directory, "ca.cnf"), "w") as f:
            f.write(f"""[ca]
default_ca = this
[this]
dir = {directory}
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
organizationalUnitName = optional
""")
        with open(os.path.join(directory, "serial"), "w") as f:
            f.write("1000\n")
        return CertAuthority(directory, cert, key)

    def issue(self, name: str, common_name: str, roles: tuple[str, ...] | list[str] = (),
              server: bool = False, expired: bool = False) -> Cert:
        """A certificate for CN=`common_name` with one OU per role; `server`
        adds SANs localhost and 127.0.0.1 and the usage serverAuth besides
        clientAuth (like the Kubernetes cert-manager component's coordinator
        certificate, which its own health probes present); `expired` makes it
        valid only in 2020."""
        key = os.path.join(self.directory, f"{name}.key")
        csr = os.path.join(self.directory, f"{name}.csr")
        cert = os.path.join(self.directory, f"{name}.pem")
        subject = "".join(f"/OU={r}" for r in roles) + f"/CN={common_name}"
        extensions = ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"] if server else []
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", subject, *extensions)
        os.chmod(key, 0o600)
        if expired:
            _openssl("ca", "-batch", "-config", os.path.join(self.directory, "ca.cnf"),
                     "-cert", self.cert, "-keyfile", self.key, "-in", csr, "-out", cert,
                     "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-notext")
        else:
            ext = os.path.join(self.directory, f"{name}.ext")
            with open(ext, "w") as f:
                f.write("basicConstraints=CA:FALSE\n")
                f.write("extendedKeyUsage=serverAuth,clientAuth\n"
                        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                        if server else "extendedKeyUsage=clientAuth\n")
            _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                     "-CAcreateserial", "-out", cert, "-days", "2", "-sha256", "-extfile", ext)
        return Cert(cert, key)


def served_serial(address: str, ca: str, client: Cert) -> str:
    """The serial number of the certificate a TLS server at host:port serves
    to a new connection (openssl s_client)."""
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", address, "-CAfile", ca, "-cert", client.cert,
         "-key", client.key, "-servername", "localhost"],
        input="", capture_output=True, text=True, timeout=30)
    pem = proc.stdout[proc.stdout.find("-----BEGIN CERTIFICATE-----"):
                      proc.stdout.find("-----END CERTIFICATE-----") + 25]
    if not pem.startswith("-----BEGIN"):
        raise RuntimeError(f"s_client got no certificate: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1]
