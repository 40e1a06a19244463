"""A safetensors file read by hand with NumPy, for the Python references of the tests: an 8-byte
little-endian header length, a JSON header, raw float32 data. Independent of the library's reader
(src/io/safetensors.ts), which is what the references check.
"""
import json
import struct

import numpy as np


def read_safetensors(path):
    """Every float32 tensor of the file, as float64 arrays by name."""
    with open(path, 'rb') as f:
        raw = f.read()
    (header_len,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + header_len])
    body = raw[8 + header_len:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        assert info['dtype'] == 'F32', info
        start, end = info['data_offsets']
        out[name] = np.frombuffer(body[start:end], dtype='<f4').reshape(info['shape']).astype(np.float64)
    return out
