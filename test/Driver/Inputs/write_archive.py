"""Writes test archives: python write_archive.py OUT NAME=EXPR ...

OUT ending in .npz is written with numpy's np.savez (np.savez_compressed
for .compressed.npz); OUT ending in .safetensors follows the format's
specification (huggingface/safetensors: an 8-byte little-endian header
length, a JSON header of dtype, shape and data_offsets per tensor, the
data), written here from the specification since Debian has no
safetensors package. EXPR is evaluated with numpy as np and rng (a
seeded generator).
"""
import json
import struct
import sys

import numpy as np

DTYPES = {np.float64: "F64", np.float32: "F32", np.int64: "I64",
          np.int32: "I32", np.float16: "F16"}


def write_safetensors(path, arrays):
    header = {"__metadata__": {"format": "pt"}}
    offset, blobs = 0, []
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        data = value.astype(value.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[value.dtype.type],
                        "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    arrays = {}
    for spec in sys.argv[2:]:
        name, expr = spec.split("=", 1)
        arrays[name] = np.asarray(eval(expr, {"np": np, "rng": rng}))
    if out.endswith(".safetensors"):
        write_safetensors(out, arrays)
    elif out.endswith(".compressed.npz"):
        np.savez_compressed(out, **arrays)
    else:
        np.savez(out, **arrays)


if __name__ == "__main__":
    main()
