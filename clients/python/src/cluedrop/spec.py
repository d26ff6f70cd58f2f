"""Job specs as ``cluedrop submit`` reads them: a YAML or JSON file, a dict,
or a ``cluedrop.v1.job_pb2.JobSpec``.

A spec is one mapping whose keys are JobSpec's proto field names (snake_case;
the lowerCamel JSON names work too), nested as in proto/cluedrop/v1/job.proto;
enums take the full or the short name in any case (``contrast``). The rules
and error messages are those of the CLI (cli/job_spec_file.cc,
cli/yaml_message.cc): an invalid spec raises SpecError with one line per
problem, ``FILE:LINE: field.path: what``.

Paths: the coordinator reads the files a spec names, so relative paths
(corpus.paths, the models' checkpoint_dir, target_model.from_scratch_config
and tokenizer_dir, evaluation.prompt_table and fewshot_pool, output_dir) are
made absolute: against the spec file's directory for a file (as the CLI
does), against `base_dir` (default: the current directory) for a dict. A
JobSpec message is used as given. Absolute paths and URIs (``s3://...``) are
kept; ``~`` is not expanded.

Example:
    >>> spec = load_spec("examples/biography-score-only.yaml")
    >>> spec.corpus.paths[0]
    '/.../examples/paper-data/biography_synthetic.csv'
    >>> load_spec({"name": "x", "augmentation": {"mode": "contrast", "alpah": 0.5}})
    Traceback (most recent call last):
    SpecError: INVALID_ARGUMENT: spec: augmentation.alpah: unknown field (did you mean alpha?)
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from typing import Any, Union

import grpc
import yaml

from ._yaml_message import Node, SpecLines, convert_message, node_from_python, node_from_yaml
from .errors import CluedropError, FieldViolation, SpecError
from .v1 import job_pb2

__all__ = ["SpecSource", "load_spec", "parse_spec_text", "resolve_spec_paths"]

# What submit() and load_spec() take.
SpecSource = Union[Mapping[str, Any], str, "os.PathLike[str]", job_pb2.JobSpec]


def _raise(problems: list[tuple[str, int, str, str]], file: str) -> None:
    if problems:
        raise SpecError("\n".join(text for text, *_ in problems),
                        [FieldViolation(path or None, what, file, line or None)
                         for _, line, path, what in problems])


def _fail(text: str, file: str, line: int = 0) -> SpecError:
    what = text.removeprefix(file).lstrip(":0123456789 ")
    return SpecError(text, [FieldViolation(None, what, file, line or None)])


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _is_json(text: str, name: str) -> bool:
    return name.lower().endswith(".json") or text.lstrip(" \t\n\v\f\r").startswith("{")


def _json_as_yaml(json_text: str) -> str:
    """Valid JSON as YAML (cli/job_spec_file.cc JsonAsYaml): tabs outside
    strings become spaces, surrogate-pair escapes become the character."""
    out: list[str] = []
    in_string = False
    i = 0
    n = len(json_text)

    def escape(at: int) -> int:
        """The value of the \\uXXXX escape at `at`, or -1."""
        digits = json_text[at + 2:at + 6]
        if json_text[at:at + 2] != "\\u" or len(digits) != 4 \
                or any(c not in "0123456789abcdefABCDEF" for c in digits):
            return -1
        return int(digits, 16)

    while i < n:
        c = json_text[i]
        if not in_string:
            if c == '"':
                in_string = True
            out.append(" " if c == "\t" else c)
        elif c == '"':
            in_string = False
            out.append(c)
        elif c == "\\" and i + 1 < n:
            high, low = escape(i), escape(i + 6)
            if 0xD800 <= high <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
                out.append(chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)))
                i += 12
                continue
            out.append(c)
            out.append(json_text[i + 1])
            i += 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _check_characters(text: str, name: str) -> None:
    """YAML streams are printable text: no C0 controls but tab, LF and CR, no DEL."""
    for index, c in enumerate(text):
        u = ord(c)
        if (u < 0x20 and c not in "\t\n\r") or u == 0x7F:
            line = _line_at(text, index)
            raise _fail(f"{name}:{line}: invalid YAML: control character 0x{u:02x}", name, line)


def _refuse_tags_anchors_aliases(text: str, name: str) -> None:
    """The CLI refuses YAML tags, anchors and aliases: a job spec needs none."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        mark = None
        if isinstance(event, yaml.AliasEvent):
            mark, symbol = event.start_mark, "*"
        elif isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            mark, symbol = event.start_mark, "&"
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)) and event.tag:
            mark, symbol = event.start_mark, "!"
        if mark is not None:
            line = mark.line + 1
            raise _fail(f"{name}:{line}: YAML tags, anchors and aliases ('{symbol}') are not "
                        "supported in job specs", name, line)


def _load_single_document(text: str, name: str) -> yaml.Node:
    _check_characters(text, name)
    try:
        _refuse_tags_anchors_aliases(text, name)
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        where = f"{name}:{line}:{mark.column + 1}" if mark else name
        # libyaml's wording, as the CLI's parser (cli/yaml_tree.cc) reports it.
        what = " ".join(part for part in (e.problem, e.context) if part) or "malformed YAML"
        raise _fail(f"{where}: invalid YAML: {what}", name, line) from None
    except yaml.YAMLError as e:
        raise _fail(f"{name}: invalid YAML: {e}", name) from None
    if not documents or (isinstance(documents[0], yaml.ScalarNode)
                         and documents[0].tag == "tag:yaml.org,2002:null"):
        raise _fail(f"{name}: the job spec is empty", name)
    if len(documents) > 1:
        line = documents[1].start_mark.line + 1
        raise _fail(f"{name}:{line}: expected one YAML document, found more", name, line)
    return documents[0]


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise _fail(f"{name}:{line}: invalid YAML: not UTF-8 (byte 0x{data[e.start]:02x})", name,
                    line) from None


def _parse_text(text: str | bytes, name: str) -> tuple[job_pb2.JobSpec, SpecLines]:
    if isinstance(text, bytes):
        text = _decode(text, name)
    if _is_json(text, name):
        def reject(constant: str) -> None:
            raise ValueError(f"{constant} is not JSON")
        try:
            json.loads(text, parse_constant=reject)
        except ValueError as e:
            raise _fail(f"{name}: invalid JSON: {e}", name) from None
        text = _json_as_yaml(text)
    root = _load_single_document(text, name)
    lines = SpecLines(name)
    spec = job_pb2.JobSpec()
    _raise(convert_message(node_from_yaml(root), spec, lines), name)
    return spec, lines


def parse_spec_text(text: str | bytes, name: str = "spec.yaml") -> job_pb2.JobSpec:
    """Parses spec text (YAML, or JSON when `name` ends in ``.json`` or the
    text starts with ``{``); `name` names it in errors. Relative paths are
    left as written. Raises SpecError.

    Example:
        >>> parse_spec_text("name: x\\ntraining: {epochs: ten}\\n", "job.yaml")
        Traceback (most recent call last):
        SpecError: INVALID_ARGUMENT: job.yaml:2: training.epochs: expected an integer, got "ten"
    """
    return _parse_text(text, name)[0]


def _resolve(base: str, path: str) -> str:
    if not path or "://" in path or os.path.isabs(path):
        return path
    joined = os.path.normpath(os.path.join(base, path))
    # std::filesystem::lexically_normal keeps a trailing separator.
    return joined + "/" if path.endswith("/") and not joined.endswith("/") else joined


def resolve_spec_paths(spec: job_pb2.JobSpec, base_dir: str | os.PathLike[str]) -> None:
    """Rewrites every relative path field of `spec` (the module docstring's
    list) as `base_dir`/path, normalised; unset fields stay unset."""
    base = os.path.abspath(os.fspath(base_dir))
    if spec.HasField("corpus"):
        spec.corpus.paths[:] = [_resolve(base, p) for p in spec.corpus.paths]
    if spec.HasField("reference_models"):
        for model in ("large", "small"):
            if spec.reference_models.HasField(model):
                reference = getattr(spec.reference_models, model)
                reference.checkpoint_dir = _resolve(base, reference.checkpoint_dir)
    if spec.HasField("target_model"):
        target = spec.target_model
        if target.HasField("checkpoint_dir"):
            target.checkpoint_dir = _resolve(base, target.checkpoint_dir)
        if target.HasField("from_scratch_config"):
            target.from_scratch_config = _resolve(base, target.from_scratch_config)
        target.tokenizer_dir = _resolve(base, target.tokenizer_dir)
    if spec.HasField("evaluation"):
        spec.evaluation.prompt_table = _resolve(base, spec.evaluation.prompt_table)
        spec.evaluation.fewshot_pool = _resolve(base, spec.evaluation.fewshot_pool)
    spec.output_dir = _resolve(base, spec.output_dir)


def load_spec_with_lines(source: SpecSource, *, base_dir: str | os.PathLike[str] | None = None
                         ) -> tuple[job_pb2.JobSpec, SpecLines | None]:
    """load_spec(), plus where each field was written (None unless a file)."""
    if isinstance(source, job_pb2.JobSpec):
        copy = job_pb2.JobSpec()
        copy.CopyFrom(source)
        return copy, None
    if isinstance(source, Mapping):
        lines = SpecLines("spec")
        spec = job_pb2.JobSpec()
        root: Node = node_from_python(source)
        _raise(convert_message(root, spec, lines), "spec")
        resolve_spec_paths(spec, base_dir if base_dir is not None else os.getcwd())
        return spec, None
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            hint = ("; a str spec is a file path (YAML text: parse_spec_text())"
                    if "\n" in path else "")
            code = {errno.ENOENT: grpc.StatusCode.NOT_FOUND,
                    errno.EACCES: grpc.StatusCode.PERMISSION_DENIED}.get(
                        e.errno or 0, grpc.StatusCode.FAILED_PRECONDITION)
            message = f"{path}: {e.strerror}{hint}"
            raise CluedropError(code, message, [FieldViolation(None, message)]) from None
        spec, file_lines = _parse_text(data, path)
        resolve_spec_paths(spec, base_dir if base_dir is not None
                           else os.path.dirname(os.path.abspath(path)))
        return spec, file_lines
    raise TypeError(f"a job spec is a dict, a YAML/JSON file path or a JobSpec, "
                    f"got {type(source).__name__}")


def load_spec(source: SpecSource, *, base_dir: str | os.PathLike[str] | None = None
              ) -> job_pb2.JobSpec:
    """The JobSpec of `source`: a YAML/JSON file path, a dict, or a JobSpec
    (copied as is). Relative paths are made absolute (module docstring);
    `base_dir` overrides the directory they are resolved against. Raises
    SpecError for an invalid spec, CluedropError (NOT_FOUND, ...) for a file
    that cannot be read, TypeError for another kind of source.

    Example:
        >>> spec = load_spec({"name": "bio", "corpus": {"paths": ["bios.csv"], "format": "csv"},
        ...                   "augmentation": {"mode": "contrast", "alpha": 0.5}})
        >>> spec.augmentation.mode == job_pb2.AUGMENTATION_MODE_CONTRAST
        True
    """
    return load_spec_with_lines(source, base_dir=base_dir)[0]
