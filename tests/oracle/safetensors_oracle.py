#!/usr/bin/env python3
"""Oracle for cluedrop's C++ safetensors code, using the Python `safetensors`
package (an independent implementation) and huggingface_hub (the sharding
rules transformers uses).

  safetensors_oracle.py write DIR
      Writes files with safetensors.numpy / safetensors.torch save_file and a
      sharded checkpoint with huggingface_hub.save_torch_state_dict, plus
      DIR/manifest.json describing what the C++ reader must find.
  safetensors_oracle.py check PATH MANIFEST
      Checks a file (or checkpoint directory) that cluedrop's C++ writer made
      against MANIFEST, which the C++ side wrote next to it.

Manifest tensors: {"name", "dtype" (safetensors spelling), "shape",
"hex" (the raw little-endian bytes), "values" (flattened, row-major; floats
exactly representable, bools as true/false)}.
"""
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
from huggingface_hub import save_torch_state_dict, split_torch_state_dict_into_shards
from safetensors import safe_open
from safetensors.numpy import save_file as np_save_file
from safetensors.torch import save_file as torch_save_file

TORCH_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
FLOAT_DTYPES = {"F64", "F32", "F16", "BF16"}


def dtype_name(tensor):
    for name, dtype in TORCH_DTYPES.items():
        if tensor.dtype == dtype:
            return name
    raise ValueError(f"unexpected dtype {tensor.dtype}")


def raw_bytes(tensor):
    return tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def values_of(tensor, name):
    flat = tensor.reshape(-1)
    if name in FLOAT_DTYPES:
        return flat.double().tolist()
    return flat.tolist()


def describe(name, tensor):
    """Manifest entry for a torch tensor."""
    dtype = dtype_name(tensor)
    return {"name": name, "dtype": dtype, "shape": list(tensor.shape),
            "hex": raw_bytes(tensor).hex(), "values": values_of(tensor, dtype)}


def header_order(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))  # dicts keep the file's key order
    return [k for k in header if k != "__metadata__"]


# --------------------------------------------------------------------- write

def numpy_tensors():
    return {
        "f64": np.array([[1.5, -2.25, 3.0], [1e300, -0.0, 5e-324]], dtype=np.float64),
        "f32": np.array([[0.1, -3.5], [3.4028234663852886e38, 1e-45]], dtype=np.float32),
        "f16": np.array([1.0, -2.0, 65504.0, 2.0 ** -24, -0.0, 0.333], dtype=np.float16),
        "i64": np.array([-(2 ** 63), 2 ** 63 - 1, 0, -1], dtype=np.int64),
        "i32": np.array([[-(2 ** 31), 2 ** 31 - 1], [7, -7]], dtype=np.int32),
        "i16": np.array([-32768, 32767, 12345], dtype=np.int16),
        "i8": np.array([-128, 127, 0, -1, 5], dtype=np.int8),
        "u8": np.array([0, 255, 128, 1], dtype=np.uint8),
        "bool": np.array([[True, False], [False, True], [True, True]], dtype=np.bool_),
        "scalar": np.array(3.25, dtype=np.float32),
        "zero_rows": np.zeros((0, 3), dtype=np.float32),
        "zero_cols": np.zeros((2, 0), dtype=np.int16),
    }


def torch_tensors():
    return {
        "model.embed.weight": torch.tensor(
            [[1.0, -2.5, 3.140625], [3.3895313892515355e38, 2.0 ** -133, -0.0]],
            dtype=torch.bfloat16),
        "model.norm.weight": torch.tensor([0.5, -0.25, 1e-3], dtype=torch.float16),
        "lm_head.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8,
        "position_ids": torch.arange(5, dtype=torch.int64).reshape(1, 5),
        "mask": torch.tensor([True, False, True]),
        "scale": torch.tensor(0.75, dtype=torch.bfloat16),
        "empty": torch.zeros((3, 0), dtype=torch.bfloat16),
    }


def sharded_state_dict():
    torch.manual_seed(0)
    sd = {}
    for layer in range(3):
        sd[f"model.layers.{layer}.mlp.weight"] = torch.randn(4, 4, dtype=torch.float32)
        sd[f"model.layers.{layer}.norm.weight"] = torch.randn(4, dtype=torch.bfloat16)
    sd["lm_head.weight"] = torch.randn(2, 8, dtype=torch.float16)
    return sd


def write(out_dir):
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    manifest = {"files": [], "checkpoints": []}

    np_path = os.path.join(out_dir, "numpy_all.safetensors")
    np_meta = {"format": "np", "source": "safetensors.numpy"}
    arrays = numpy_tensors()
    np_save_file(arrays, np_path, metadata=np_meta)
    manifest["files"].append({
        "path": "numpy_all.safetensors", "metadata": np_meta, "header_order": header_order(np_path),
        "tensors": [describe(k, torch.from_numpy(np.array(v, copy=True))) for k, v in arrays.items()],
    })

    pt_path = os.path.join(out_dir, "torch_all.safetensors")
    pt_meta = {"format": "pt"}
    tensors = torch_tensors()
    torch_save_file(tensors, pt_path, metadata=pt_meta)
    manifest["files"].append({
        "path": "torch_all.safetensors", "metadata": pt_meta, "header_order": header_order(pt_path),
        "tensors": [describe(k, v) for k, v in tensors.items()],
    })

    # No metadata at all (no "__metadata__" key in the header).
    bare_path = os.path.join(out_dir, "no_metadata.safetensors")
    bare = {"x": torch.tensor([1, 2, 3], dtype=torch.int32)}
    torch_save_file(bare, bare_path)
    manifest["files"].append({
        "path": "no_metadata.safetensors", "metadata": {}, "header_order": header_order(bare_path),
        "tensors": [describe(k, v) for k, v in bare.items()],
    })

    # A sharded checkpoint exactly as huggingface_hub (and so transformers) writes it.
    ckpt_dir = os.path.join(out_dir, "sharded")
    os.makedirs(ckpt_dir)
    sd = sharded_state_dict()
    save_torch_state_dict(sd, ckpt_dir, max_shard_size=200)
    with open(os.path.join(ckpt_dir, "model.safetensors.index.json")) as f:
        weight_map = json.load(f)["weight_map"]
    if len(set(weight_map.values())) < 2:
        raise SystemExit("oracle: expected a sharded checkpoint")
    manifest["checkpoints"].append({
        "path": "sharded",
        "tensors": [dict(describe(k, v), file=weight_map[k]) for k, v in sd.items()],
    })

    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"oracle: wrote {len(manifest['files'])} files and "
          f"{len(manifest['checkpoints'])} checkpoint into {out_dir}")


# --------------------------------------------------------------------- check

class CheckError(Exception):
    pass


def expect(cond, message):
    if not cond:
        raise CheckError(message)


def same_values(got, want):
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if isinstance(w, float) or isinstance(g, float):
            if g != w or math.copysign(1.0, g) != math.copysign(1.0, w):
                return False
        elif g != w:
            return False
    return True


def check_tensor(handle, spec, where):
    name = spec["name"]
    t = handle.get_tensor(name)
    expect(dtype_name(t) == spec["dtype"], f"{where}: {name}: dtype {dtype_name(t)} != {spec['dtype']}")
    expect(list(t.shape) == spec["shape"], f"{where}: {name}: shape {list(t.shape)} != {spec['shape']}")
    expect(raw_bytes(t).hex() == spec["hex"], f"{where}: {name}: bytes differ")
    got = values_of(t, spec["dtype"])
    expect(same_values(got, spec["values"]), f"{where}: {name}: values {got} != {spec['values']}")


def check_raw_layout(path, specs):
    """Header padded to 8 bytes; data section = tensors in name order, contiguous."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    expect(n % 8 == 0, f"{path}: header length {n} is not a multiple of 8")
    text = data[8:8 + n].decode("utf-8")
    expect(text.rstrip(" ").endswith("}"), f"{path}: header not padded with spaces")
    header = json.loads(text)
    entries = sorted((v["data_offsets"], k) for k, v in header.items() if k != "__metadata__")
    names_by_offset = [k for (_, k) in entries]
    expect(names_by_offset == sorted(names_by_offset),
           f"{path}: tensors not laid out in name order: {names_by_offset}")
    end = 0
    for (begin, stop), name in entries:
        expect(begin == end, f"{path}: gap or overlap before {name}")
        end = stop
    expect(8 + n + end == len(data), f"{path}: {len(data) - 8 - n - end} stray bytes at the end")
    expect(sorted(header) == sorted([s["name"] for s in specs] + ["__metadata__"]),
           f"{path}: header keys {sorted(header)}")


def check_file(path, manifest):
    check_raw_layout(path, manifest["tensors"])
    with safe_open(path, framework="pt") as f:
        expect(f.metadata() == manifest["metadata"],
               f"{path}: metadata {f.metadata()} != {manifest['metadata']}")
        expect(sorted(f.keys()) == sorted(s["name"] for s in manifest["tensors"]),
               f"{path}: tensors {sorted(f.keys())}")
        for spec in manifest["tensors"]:
            check_tensor(f, spec, path)


def check_checkpoint(path, manifest):
    specs = manifest["tensors"]
    # What huggingface_hub would do with the same tensors in the same order.
    sd = {s["name"]: torch.empty(s["shape"], dtype=TORCH_DTYPES[s["dtype"]]) for s in specs}
    split = split_torch_state_dict_into_shards(sd, max_shard_size=manifest["max_shard_bytes"])
    files = sorted(os.listdir(path))
    expected_files = sorted(split.filename_to_tensors)
    if split.is_sharded:
        expected_files.append("model.safetensors.index.json")
        expected_files.sort()
    expect(files == expected_files, f"{path}: files {files} != {expected_files}")
    if split.is_sharded:
        with open(os.path.join(path, "model.safetensors.index.json")) as f:
            text = f.read()
        index = json.loads(text)
        want = {"metadata": {"total_size": split.metadata["total_size"]},
                "weight_map": split.tensor_to_filename}
        expect(index == want, f"{path}: index {index} != {want}")
        # Byte for byte what transformers' save_pretrained writes.
        expect(text == json.dumps(want, indent=2, sort_keys=True) + "\n",
               f"{path}: index text differs from transformers' formatting")
    for filename, names in split.filename_to_tensors.items():
        file_specs = [s for s in specs if s["name"] in names]
        check_file(os.path.join(path, filename),
                   {"metadata": {"format": "pt"}, "tensors": file_specs})


def check(path, manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    try:
        if manifest["kind"] == "file":
            check_file(path, manifest)
        elif manifest["kind"] == "checkpoint":
            check_checkpoint(path, manifest)
        else:
            raise CheckError(f"unknown manifest kind {manifest['kind']!r}")
    except CheckError as e:
        print(f"oracle: FAIL: {e}", file=sys.stderr)
        return 1
    print(f"oracle: OK: {path} ({len(manifest['tensors'])} tensors)")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "write":
        write(argv[2])
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
