"""The same GPT forward in PyTorch (Debian's python3-torch), for the benchmark's side-by-side.

Reads the weights the benchmark saved (Inference Lab's safetensors names, y = x W + b with W
[in, out]), runs `pos` tokens through them, and prints one JSON line: the median ms per thread
count, and the logits of the last position so the benchmark can check both agree.
Usage: torch_gpt2.py <weights.safetensors> <config.json> <ids comma-separated> <threads,...>
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


def main():
    weights = read_safetensors(sys.argv[1])
    config = json.load(open(sys.argv[2]))['config']
    ids = torch.tensor([[int(v) for v in sys.argv[3].split(',')]])
    if config['tiedEmbeddings']:
        weights['unembed.W_U'] = weights['embed.W_E'].t().contiguous()  # transposed once, as the other engines do
    result = {'torch': torch.__version__, 'ms': {}}
    with torch.inference_mode():
        for threads in [int(t) for t in sys.argv[4].split(',')]:
            torch.set_num_threads(threads)
            for _ in range(3):
                logits = forward(weights, config, ids)
            times = []
            for _ in range(10):
                t0 = time.perf_counter()
                logits = forward(weights, config, ids)
                times.append((time.perf_counter() - t0) * 1000)
            result['ms'][str(threads)] = sorted(times)[len(times) // 2]
    result['last_logits'] = logits[0, -1, :16].tolist()
    result['blas'] = blas_in_use()
    print(json.dumps(result))


main()
