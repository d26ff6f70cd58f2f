"""setuptools hooks of the cluedrop package (metadata is in pyproject.toml):
the protobuf/gRPC modules are generated from ../../proto when the package is
built (build_stubs.py), and the version is the project's (CMakeLists.txt)."""

import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_stubs  # noqa: E402  (next to this file)


class BuildPyWithStubs(build_py):
    """build_py, then protoc into the build directory (into src/ for an
    editable install, whose files are the source tree's)."""

    def run(self) -> None:
        super().run()
        editable = getattr(self, "editable_mode", False)
        out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src") if editable \
            else self.build_lib
        for path in build_stubs.generate(out):
            self.announce(f"generated {path}", level=2)


class SdistWithProtos(sdist):
    """sdist, plus the protos and the version the build needs."""

    def make_release_tree(self, base_dir: str, files: list) -> None:
        super().make_release_tree(base_dir, files)
        build_stubs.copy_sources(base_dir)


setup(version=build_stubs.project_version(),
      cmdclass={"build_py": BuildPyWithStubs, "sdist": SdistWithProtos})
