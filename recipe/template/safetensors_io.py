"""The safetensors format in pure torch (no `safetensors` package needed).

A file is: 8 bytes little-endian header length n, n bytes of JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian tensor bytes.
"""
import json
import struct

import torch

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}


class SafetensorsError(ValueError):
    """A file that is not a readable safetensors file; the message names the file."""


def read_header(path):
    """(header dict without __metadata__, metadata dict, byte offset where the data starts)."""
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) != 8:
            raise SafetensorsError(f"{path}: too short to be a safetensors file")
        (n,) = struct.unpack("<Q", prefix)
        raw = f.read(n)
    if len(raw) != n:
        raise SafetensorsError(f"{path}: header says {n} bytes but the file ends early")
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise SafetensorsError(f"{path}: header is not valid JSON ({e})") from None
    metadata = header.pop("__metadata__", None) or {}
    return header, metadata, 8 + n


def load_file(path):
    """{name: tensor} for every tensor, plus the metadata dict."""
    header, metadata, start = read_header(path)
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if info["dtype"] not in DTYPES:
                raise SafetensorsError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
            begin, end = info["data_offsets"]
            f.seek(start + begin)
            data = bytearray(f.read(end - begin))
            dtype = DTYPES[info["dtype"]]
            shape = info["shape"]
            expected = dtype_bytes(dtype)
            for d in shape:
                expected *= d
            if len(data) != expected:
                raise SafetensorsError(f"{path}: tensor {name} has {len(data)} bytes, shape {shape} needs {expected}")
            flat = torch.frombuffer(data, dtype=dtype) if len(data) > 0 else torch.empty(0, dtype=dtype)
            out[name] = flat.reshape(shape)
    return out, metadata


def dtype_bytes(dtype):
    return torch.empty(0, dtype=dtype).element_size()


def save_file(tensors, path, metadata=None):
    """Writes {name: tensor} (contiguous, little-endian) with an optional {str: str} metadata."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        blob = tensor_bytes(t)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the data starts 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def tensor_bytes(t):
    """Raw bytes of a contiguous CPU tensor (viewed as bytes, so bf16 works without numpy)."""
    if t.numel() == 0:
        return b""
    return bytes(t.reshape(-1).view(torch.uint8).numpy().tobytes())
