"""The same GPT forward in PyTorch (Debian's python3-torch), for the benchmark's side-by-side.

Reads the weights the benchmark saved (Inference Lab's safetensors names, y = x W + b with W
[in, out]) and serves forwards of `pos` tokens through them.
Usage: torch_gpt2.py --serve <weights.safetensors> <config.json> <ids comma-separated>
Loads once, prints one JSON line (version, BLAS, the last position's first logits so the
benchmark can check both agree), then for each line "<threads>" on stdin runs one forward with
that many threads and prints its own ms: the benchmark times these calls in alternation with the
tfjs forward (src/engine/timing.ts), so load on a shared machine hits both alike.
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch


def read_safetensors(path):
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        begin, end = info['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=np.float32).reshape(info['shape']).copy())
    return out


def forward(w, c, ids):
    d, heads, layers = c['dModel'], c['nHeads'], c['nLayers']
    d_head = d // heads
    pos = ids.shape[1]
    x = w['embed.W_E'][ids] + w['pos_embed.W_pos'][:pos]
    mask = torch.triu(torch.full((pos, pos), float('-inf')), diagonal=1)
    ln = lambda t, p: torch.nn.functional.layer_norm(t, (d,), w[p + '.w'], w[p + '.b'], c['layerNormEps'])
    for i in range(layers):
        b = f'blocks.{i}'
        h = ln(x, b + '.ln1')
        split = lambda t: t.view(1, pos, heads, d_head).transpose(1, 2)
        q = split(h @ w[b + '.attn.W_Q'] + w[b + '.attn.b_Q'])
        k = split(h @ w[b + '.attn.W_K'] + w[b + '.attn.b_K'])
        v = split(h @ w[b + '.attn.W_V'] + w[b + '.attn.b_V'])
        pattern = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d_head) + mask, dim=-1)
        z = (pattern @ v).transpose(1, 2).reshape(1, pos, d)
        x = x + z @ w[b + '.attn.W_O'] + w[b + '.attn.b_O']
        h = ln(x, b + '.ln2')
        x = x + torch.nn.functional.gelu(h @ w[b + '.mlp.W_in'] + w[b + '.mlp.b_in'], approximate='tanh') @ w[b + '.mlp.W_out'] + w[b + '.mlp.b_out']
    return ln(x, 'ln_final') @ w['unembed.W_U']


def blas_in_use():
    """The BLAS this process loaded: Debian's torch says BLAS_INFO=generic whatever libblas.so.3
    resolves to, so read the mapped libraries (after a matmul has run)."""
    try:
        libs = {line.split()[-1] for line in open('/proc/self/maps') if 'blas' in line.split()[-1]}
    except OSError:
        return 'unknown'
    if any('openblas' in l or 'mkl' in l or 'blis' in l for l in libs):
        return 'openblas' if any('openblas' in l for l in libs) else 'optimized'
    return 'reference' if libs else 'unknown'


def serve(weights, config, ids):
    with torch.inference_mode():
        for _ in range(2):
            logits = forward(weights, config, ids)  # warm-up
        print(json.dumps({'ready': True, 'torch': torch.__version__, 'blas': blas_in_use(), 'last_logits': logits[0, -1, :16].tolist()}), flush=True)
        for line in sys.stdin:
            torch.set_num_threads(int(line))
            t0 = time.perf_counter()
            forward(weights, config, ids)
            print(json.dumps({'ms': (time.perf_counter() - t0) * 1000}), flush=True)


def load(args):
    weights = read_safetensors(args[0])
    config = json.load(open(args[1]))['config']
    ids = torch.tensor([[int(v) for v in args[2].split(',')]])
    if config['tiedEmbeddings']:
        weights['unembed.W_U'] = weights['embed.W_E'].t().contiguous()  # transposed once, as the other engines do
    return weights, config, ids


def main():
    if len(sys.argv) != 5 or sys.argv[1] != '--serve':
        sys.exit('usage: torch_gpt2.py --serve <weights.safetensors> <config.json> <ids comma-separated>')
    serve(*load(sys.argv[2:5]))


main()
