"""Build-time code generation of the cluedrop Python package (setup.py calls
it; nothing here is imported at run time).

  generate()        grpc_tools.protoc over proto/cluedrop/v1/*.proto into a
                    build directory: cluedrop/v1/*_pb2.py, *_pb2.pyi and
                    *_pb2_grpc.py, plus cluedrop/_version.py
  project_version() the version of the top-level CMakeLists.txt
                    (`project(cluedrop VERSION x.y.z ...)`), so the package
                    is versioned with the project
  copy_sources()    the protos and a VERSION file into an sdist, which has no
                    repository around it

The protos are found at ./proto (an sdist) or ../../proto (a checkout). The
generated files are never written into the source tree (except for an
editable install, into src/cluedrop, where .gitignore keeps them out of git).

Usage (by hand): python build_stubs.py OUT_DIR   # writes OUT_DIR/cluedrop/...
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_PROTO_PACKAGE = Path("cluedrop") / "v1"
_PROJECT = re.compile(r"project\s*\(\s*cluedrop\s+VERSION\s+([0-9][0-9A-Za-z.+-]*)", re.IGNORECASE)


def source_root() -> Path:
    """The directory holding proto/cluedrop/v1: the repository (a checkout)
    or this directory (an sdist)."""
    if (HERE / "VERSION").is_file() and (HERE / "proto" / _PROTO_PACKAGE).is_dir():
        return HERE  # an sdist (copy_sources)
    if (HERE.parent.parent / "proto" / _PROTO_PACKAGE).is_dir():
        return HERE.parent.parent
    raise FileNotFoundError(f"no proto/{_PROTO_PACKAGE.as_posix()} in {HERE.parent.parent} "
                            f"or {HERE}: build from a cluedrop checkout or its sdist")


def project_version() -> str:
    """x.y.z from ./VERSION (an sdist), else from the top-level CMakeLists.txt."""
    version = HERE / "VERSION"
    if version.is_file():
        return version.read_text(encoding="utf-8").strip()
    cmake = HERE.parent.parent / "CMakeLists.txt"
    if cmake.is_file():
        match = _PROJECT.search(cmake.read_text(encoding="utf-8"))
        if not match:
            raise ValueError(f"{cmake}: no `project(cluedrop VERSION x.y.z ...)`")
        return match.group(1)
    raise FileNotFoundError(f"neither {version} nor {cmake}: cannot tell the version")


def proto_files(root: Path) -> list[Path]:
    """proto/cluedrop/v1/*.proto, sorted."""
    return sorted((root / "proto" / _PROTO_PACKAGE).glob("*.proto"))


def generate(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Runs protoc (grpcio-tools) over every proto into `out_dir` (the
    directory that holds the `cluedrop` package) and writes
    cluedrop/_version.py. Returns the files written. RuntimeError when protoc
    fails."""
    from grpc_tools import protoc  # build dependency only
    import grpc_tools

    out = Path(out_dir).resolve()
    root = source_root()
    protos = proto_files(root)
    if not protos:
        raise FileNotFoundError(f"no .proto files in {root / 'proto' / _PROTO_PACKAGE}")
    (out / _PROTO_PACKAGE).mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = ["grpc_tools.protoc", f"-I{root / 'proto'}", f"-I{well_known}",
            f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}",
            *[str(p.relative_to(root / "proto")) for p in protos]]
    code = protoc.main(args)  # proto names are relative to the first -I
    if code != 0:
        raise RuntimeError(f"protoc failed (exit {code}): {' '.join(args)}")
    version = out / "cluedrop" / "_version.py"
    version.write_text(f'"""The project version (CMakeLists.txt), written at build time."""\n'
                       f'__version__ = "{project_version()}"\n', encoding="utf-8")
    written = sorted((out / _PROTO_PACKAGE).glob("*_pb2*.py*"))
    return [*written, version]


def copy_sources(release_dir: str | os.PathLike[str]) -> None:
    """Puts proto/cluedrop/v1/*.proto and VERSION into an sdist tree."""
    target = Path(release_dir)
    root = source_root()
    (target / "proto" / _PROTO_PACKAGE).mkdir(parents=True, exist_ok=True)
    for proto in proto_files(root):
        shutil.copy2(proto, target / "proto" / _PROTO_PACKAGE / proto.name)
    (target / "VERSION").write_text(project_version() + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for path in generate(sys.argv[1]):
        print(path)
