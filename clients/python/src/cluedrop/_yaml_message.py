"""Fills a protobuf message from a tree of YAML nodes (or a Python dict),
checking every key and value against the message's descriptor: a port of
cli/yaml_message.cc and cli/enum_names.cc, with the same rules and the same
error text, so that a spec accepted (or refused) by ``cluedrop submit`` is
accepted (or refused, with the same lines) here.

Rules:
  - keys are proto field names (``shard_size_docs``) or their JSON names
    (``shardSizeDocs``); unknown and duplicate keys are errors;
  - null values (``key:``, ``~``, ``null``; None in a dict) leave the field unset;
  - integers must be integers in the field's range, floats finite numbers,
    booleans ``true``/``false`` (any case); quoted numbers are accepted;
  - enums take the full value name or the short one, in any case
    (``AUGMENTATION_MODE_CONTRAST``, ``contrast``); integers are not accepted;
  - repeated fields take a list, maps a mapping, messages a mapping;
  - at most one field of a oneof may be set.

Every scalar is judged by its text, as the CLI's YAML parser gives it: a dict value
``True`` is the text "true", ``3`` is "3", ``0.7`` is "0.7".

Example:
    >>> lines = SpecLines("job.yaml")
    >>> spec = job_pb2.JobSpec()
    >>> problems = convert_message(node_from_yaml(root), spec, lines)
    >>> [text for text, *_ in problems]
    ['job.yaml:7: training.epochs: expected an integer, got "ten"']
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import yaml
from google.protobuf import descriptor as pb_descriptor
from google.protobuf import message as pb_message

__all__ = ["Node", "Problem", "SpecLines", "convert_message", "enum_choices", "node_from_python",
           "node_from_yaml", "parse_enum_name"]

_MAX_ERRORS = 20
_FLT_MAX = 3.4028234663852886e38
_FD = pb_descriptor.FieldDescriptor
_INT32 = (_FD.CPPTYPE_INT32, -(2**31), 2**31 - 1)
_INT64 = (_FD.CPPTYPE_INT64, -(2**63), 2**63 - 1)
# absl::SimpleAtod: a decimal float, inf/infinity/nan (any case), optional sign.
_FLOAT_TEXT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)",
                         re.ASCII | re.IGNORECASE)
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# ------------------------------------------------------------------ nodes ---
@dataclass
class Node:
    """A YAML node reduced to what the conversion needs. ``line`` is 1-based
    (0: unknown, as for a dict)."""
    kind: Literal["map", "seq", "scalar", "null"]
    line: int = 0
    text: str = ""
    items: list[tuple[Node, Node]] = field(default_factory=list)
    elements: list[Node] = field(default_factory=list)


_YAML_NULL = "tag:yaml.org,2002:null"


def node_from_yaml(node: yaml.Node) -> Node:
    """Converts a composed PyYAML node (yaml.compose with SafeLoader). Plain
    ``~``, ``null``, ``Null``, ``NULL`` and empty scalars are null, as in
    the CLI; every other scalar keeps its text."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        return Node("map", line, items=[(node_from_yaml(k), node_from_yaml(v))
                                        for k, v in node.value])
    if isinstance(node, yaml.SequenceNode):
        return Node("seq", line, elements=[node_from_yaml(v) for v in node.value])
    if node.tag == _YAML_NULL:
        return Node("null", line)
    return Node("scalar", line, text=str(node.value))


def node_from_python(value: Any) -> Node:
    """Converts a dict / list / scalar tree (what yaml.safe_load or json.load
    give, or a literal in a notebook). None is null; bool is "true"/"false";
    int and float their repr(); str itself. TypeError for other types."""
    if value is None:
        return Node("null")
    if isinstance(value, Mapping):
        return Node("map", items=[(node_from_python(k), node_from_python(v))
                                  for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return Node("seq", elements=[node_from_python(v) for v in value])
    if isinstance(value, bool):
        return Node("scalar", text="true" if value else "false")
    if isinstance(value, (int, float, str)):
        return Node("scalar", text=value if isinstance(value, str) else repr(value))
    raise TypeError(f"a job spec holds dicts, lists, str, int, float, bool and None, "
                    f"got {type(value).__name__}")


# -------------------------------------------------------------- spec lines ---
class SpecLines:
    """Where each field of a spec file was written: field path -> line (the
    CLI's JobSpecLines). Paths use proto field names: ``augmentation.alpha``,
    ``corpus.paths[1]``, ``labels["team"]``."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[str, int] = {}

    def set(self, path: str, line: int) -> None:
        self.lines[path] = line

    def find(self, path: str) -> int:
        """The line of `path`, else of its closest recorded ancestor
        (``a.b[2].c`` -> ``a.b[2]`` -> ``a.b`` -> ``a``); 0 when none. A
        leading ``spec.`` is ignored."""
        path = path.removeprefix("spec.")
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            path = path[:cut]
        return self.lines.get(path, 0)


# ------------------------------------------------------------------- enums ---
def _enum_prefix(enum_type: pb_descriptor.EnumDescriptor) -> str:
    zero = enum_type.values_by_number.get(0)
    if zero is None or not zero.name.endswith("UNSPECIFIED"):
        return ""
    return str(zero.name[: -len("UNSPECIFIED")])


def parse_enum_name(enum_type: pb_descriptor.EnumDescriptor, name: str) -> int | None:
    """The number of the value named `name`: full or short (without the
    enum's prefix), in any case. None when no value has that name."""
    upper = name.translate(_ASCII_UPPER)
    if not upper:
        return None
    for candidate in (upper, _enum_prefix(enum_type) + upper):
        value = enum_type.values_by_name.get(candidate)
        if value is not None:
            return int(value.number)
    return None


def short_enum_name(value: pb_descriptor.EnumValueDescriptor) -> str:
    """"contrast" for AUGMENTATION_MODE_CONTRAST."""
    return str(value.name).removeprefix(_enum_prefix(value.type)).translate(_ASCII_LOWER)


def enum_choices(enum_type: pb_descriptor.EnumDescriptor) -> str:
    """Short names of the values except the zero one, comma-separated."""
    return ", ".join(short_enum_name(v) for v in enum_type.values if v.number != 0)


# ----------------------------------------------------------------- helpers ---
def _c_hex_escape(data: bytes) -> str:
    """absl::CHexEscape."""
    out = []
    last_hex = False
    named = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"', 0x27: "\\'", 0x5C: "\\\\"}
    for c in data:
        is_hex = False
        if c in named:
            out.append(named[c])
        elif c < 0x20 or c >= 0x7F or (last_hex and chr(c) in "0123456789abcdefABCDEF"):
            out.append(f"\\x{c:02x}")
            is_hex = True
        else:
            out.append(chr(c))
        last_hex = is_hex
    return "".join(out)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _describe(node: Node) -> str:
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    if node.kind == "scalar":
        data = _utf8(node.text)
        return '"' + _c_hex_escape(data[:40] + b"..." if len(data) > 40 else data) + '"'
    return "null"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            above = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1]))
            diagonal = above
    return row[len(b)]


def _find_field(message_type: pb_descriptor.Descriptor,
                key: str) -> pb_descriptor.FieldDescriptor | None:
    found = message_type.fields_by_name.get(key)
    if found is not None:
        return found
    return next((f for f in message_type.fields if f.json_name == key), None)


def _suggestion(message_type: pb_descriptor.Descriptor, key: str) -> str:
    best, best_distance = "", 3
    lowered = key.translate(_ASCII_LOWER)
    for f in message_type.fields:
        distance = _edit_distance(lowered, f.name)
        if distance < best_distance:
            best, best_distance = f.name, distance
    return str(best)


def _is_repeated(f: pb_descriptor.FieldDescriptor) -> bool:
    return bool(f.is_repeated)  # protobuf >= 6.31 (label is deprecated)


def _is_map(f: pb_descriptor.FieldDescriptor) -> bool:
    return (_is_repeated(f) and f.message_type is not None
            and f.message_type.GetOptions().map_entry)


def _real_oneof(f: pb_descriptor.FieldDescriptor) -> pb_descriptor.OneofDescriptor | None:
    """The field's oneof, unless it is the synthetic one of a proto3 `optional`."""
    oneof = f.containing_oneof
    if oneof is None:
        return None
    synthetic = len(oneof.fields) == 1 and oneof.name == "_" + f.name
    return None if synthetic else oneof


# --------------------------------------------------------------- converter ---
class _Converter:
    def __init__(self, lines: SpecLines) -> None:
        self.lines = lines
        self.errors: list[tuple[str, int, str, str]] = []  # (text, line, path, what)
        self.dropped = 0

    @staticmethod
    def _line_of(node: Node, fallback: int) -> int:
        return node.line if node.line > 0 else fallback

    def error(self, line: int, path: str, what: str) -> None:
        if len(self.errors) >= _MAX_ERRORS:
            self.dropped += 1
            return
        where = self.lines.file + (f":{line}" if line > 0 else "")
        text = f"{where}: {path}: {what}" if path else f"{where}: {what}"
        self.errors.append((text, line, path, what))

    def message(self, node: Node, path: str, line: int, msg: pb_message.Message) -> None:
        message_type = cast(pb_descriptor.Descriptor, msg.DESCRIPTOR)
        if node.kind != "map":
            self.error(self._line_of(node, line), path,
                       f"expected a mapping of {message_type.name} fields, got {_describe(node)}")
            return
        seen: set[int] = set()
        for key, value in node.items:
            key_line = self._line_of(key, line)
            if key.kind != "scalar":
                self.error(key_line, path, f"expected a field name, got {_describe(key)}")
                continue
            f = _find_field(message_type, key.text)
            if f is None:
                what = "unknown field"
                hint = _suggestion(message_type, key.text)
                if hint:
                    what += f" (did you mean {hint}?)"
                self.error(key_line, _join(path, key.text), what)
                continue
            field_path = _join(path, f.name)
            if f.number in seen:
                self.error(key_line, field_path, "duplicate field")
                continue
            seen.add(f.number)
            self.lines.set(field_path, key_line)
            if value.kind == "null":
                continue  # written but empty: left unset
            self.field(value, field_path, key_line, msg, f)

    def field(self, value: Node, path: str, line: int, msg: pb_message.Message,
              f: pb_descriptor.FieldDescriptor) -> None:
        if _is_map(f):
            self.map(value, path, line, msg, f)
            return
        if _is_repeated(f):
            if value.kind != "seq":
                self.error(self._line_of(value, line), path,
                           f"expected a list, got {_describe(value)}")
                return
            container = getattr(msg, f.name)
            for i, element in enumerate(value.elements):
                element_path = f"{path}[{i}]"
                element_line = self._line_of(element, line)
                self.lines.set(element_path, element_line)
                if f.cpp_type == _FD.CPPTYPE_MESSAGE:
                    self.message(element, element_path, element_line, container.add())
                    continue
                ok, converted = self.scalar(element, element_path, element_line, f)
                if ok:
                    container.append(converted)
            return
        oneof = _real_oneof(f)
        if oneof is not None:
            other = msg.WhichOneof(oneof.name)
            if other is not None:
                self.error(line, path, f"only one of {other} and {f.name} may be set "
                                       f"(oneof {oneof.name})")
                return
        if f.cpp_type == _FD.CPPTYPE_MESSAGE:
            sub = getattr(msg, f.name)
            sub.SetInParent()
            self.message(value, path, line, sub)
            return
        ok, converted = self.scalar(value, path, line, f)
        if ok:
            setattr(msg, f.name, converted)

    def map(self, value: Node, path: str, line: int, msg: pb_message.Message,
            f: pb_descriptor.FieldDescriptor) -> None:
        if value.kind != "map":
            self.error(self._line_of(value, line), path,
                       f"expected a mapping, got {_describe(value)}")
            return
        entry = f.message_type
        assert entry is not None  # a map field's entry message
        key_field = entry.fields_by_name["key"]
        value_field = entry.fields_by_name["value"]
        container = getattr(msg, f.name)
        seen: set[str] = set()
        for item_key, item_value in value.items:
            entry_line = self._line_of(item_key, line)
            if item_key.kind != "scalar":
                self.error(entry_line, path, f"expected a key, got {_describe(item_key)}")
                continue
            entry_path = f'{path}["{_c_hex_escape(_utf8(item_key.text))}"]'
            if item_key.text in seen:
                self.error(entry_line, entry_path, "duplicate key")
                continue
            seen.add(item_key.text)
            self.lines.set(entry_path, entry_line)
            ok, key = self.scalar(item_key, entry_path, entry_line, key_field)
            if not ok:
                continue
            if value_field.cpp_type == _FD.CPPTYPE_MESSAGE:
                self.message(item_value, entry_path, entry_line, container[key])
                continue
            if item_value.kind == "null":
                self.error(entry_line, entry_path, "expected a value, got null")
                continue
            ok, mapped = self.scalar(item_value, entry_path, entry_line, value_field)
            if ok:
                container[key] = mapped

    def scalar(self, node: Node, path: str, line: int,
               f: pb_descriptor.FieldDescriptor) -> tuple[bool, Any]:
        """(True, value) ready to store, or (False, None) with the error reported."""
        line = self._line_of(node, line)

        def fail(expected: str) -> tuple[bool, Any]:
            self.error(line, path, f"expected {expected}, got {_describe(node)}")
            return False, None

        text = node.text
        cpp = f.cpp_type
        if cpp == _FD.CPPTYPE_STRING:
            if node.kind != "scalar":
                return fail("a string")
            if f.type == _FD.TYPE_BYTES:
                return True, _utf8(text)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return fail("a string of valid UTF-8")
            return True, text
        if cpp == _FD.CPPTYPE_BOOL:
            word = text.translate(_ASCII_LOWER) if node.kind == "scalar" else ""
            if word not in ("true", "false"):
                return fail("true or false")
            return True, word == "true"
        if cpp == _FD.CPPTYPE_ENUM:
            if node.kind != "scalar":
                return fail("an enum name")
            enum_type = f.enum_type
            assert enum_type is not None  # an enum field's type
            number = parse_enum_name(enum_type, text)
            if number is None:
                return fail(f"one of {enum_choices(enum_type)}")
            return True, number
        if cpp in (_FD.CPPTYPE_FLOAT, _FD.CPPTYPE_DOUBLE):
            if node.kind != "scalar":
                return fail("a number")
            stripped = text.strip(" \t\n\v\f\r")
            if not _FLOAT_TEXT.fullmatch(stripped):
                return fail("a number")
            real = float(stripped)
            limit = _FLT_MAX if cpp == _FD.CPPTYPE_FLOAT else 1.7976931348623157e308
            if not math.isfinite(real) or abs(real) > limit:
                return fail("a finite number")
            return True, real
        if cpp in (_FD.CPPTYPE_INT32, _FD.CPPTYPE_INT64):
            if node.kind != "scalar":
                return fail("an integer")
            _, lo, hi = _INT32 if cpp == _FD.CPPTYPE_INT32 else _INT64
            if any(c not in "+-0123456789" for c in text):
                return fail("an integer")
            value = _atoi(text)
            if value is None or not lo <= value <= hi:
                return fail(f"an integer in [{lo}, {hi}]")
            return True, value
        if cpp in (_FD.CPPTYPE_UINT32, _FD.CPPTYPE_UINT64):
            if node.kind != "scalar":
                return fail("an integer")
            hi = 2**32 - 1 if cpp == _FD.CPPTYPE_UINT32 else 2**64 - 1
            if any(c not in "+-0123456789" for c in text):
                return fail("an integer")
            if "-" in text:
                return fail("a non-negative integer")
            value = _atoi(text)
            if value is None or value > hi:
                return fail(f"an integer in [0, {hi}]")
            return True, value
        return fail("a value of another kind")


def _atoi(text: str) -> int | None:
    """absl::SimpleAtoi on text of signs and digits: one optional sign, then digits."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isdigit():
        return None
    return -int(body) if text[0] == "-" else int(body)


# (text, line, path, what) of one error; the "N more errors not shown" note
# has line 0 and path "".
Problem = tuple[str, int, str, str]


def convert_message(node: Node, msg: pb_message.Message, lines: SpecLines) -> list[Problem]:
    """Merges `node` (a mapping) into `msg`, recording the line of every field
    written in `lines`. Returns the errors, each with its text
    "FILE:LINE: FIELD.PATH: what" (at most 20, then "FILE: N more errors not
    shown"); `msg` is then partly filled and should be discarded."""
    converter = _Converter(lines)
    converter.message(node, "", 1 if node.line > 0 else 0, msg)  # a dict has no lines
    errors = list(converter.errors)
    if converter.dropped:
        note = f"{converter.dropped} more errors not shown"
        errors.append((f"{lines.file}: {note}", 0, "", note))
    return errors
