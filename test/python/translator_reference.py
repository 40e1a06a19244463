"""An independent NumPy re-implementation of the translator's forward pass (src/models/translator.ts),
for test/translator.test.ts. Reads config.json and weights.safetensors (parsed here by hand: an
8-byte little-endian header length, a JSON header, raw float32 data), runs one Spanish sentence
and one English prefix, and prints JSON: the logits [tgt_pos][vocab] and every decoder block's
cross-attention weights [layer][head][tgt_pos][src_pos].

usage: python translator_reference.py MODEL_DIR '{"source": [ids], "target": [ids]}'
"""
import json
import sys

import numpy as np

from safetensors_np import read_safetensors


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(W, prefix, x, kv, heads, causal):
    """Multi-head attention of queries x [q, d] over keys/values kv [k, d]; returns output and weights [head, q, k]."""
    d = x.shape[1]
    dh = d // heads
    q = x @ W[prefix + '.W_Q'] + W[prefix + '.b_Q']
    k = kv @ W[prefix + '.W_K'] + W[prefix + '.b_K']
    v = kv @ W[prefix + '.W_V'] + W[prefix + '.b_V']
    outs, patterns = [], []
    for h in range(heads):
        cols = slice(h * dh, (h + 1) * dh)
        scores = q[:, cols] @ k[:, cols].T / np.sqrt(dh)
        if causal:
            scores = scores + np.triu(np.full(scores.shape, -np.inf), 1)
        p = softmax(scores)
        patterns.append(p)
        outs.append(p @ v[:, cols])
    z = np.concatenate(outs, axis=1)
    return z @ W[prefix + '.W_O'] + W[prefix + '.b_O'], np.stack(patterns)


def mlp(W, prefix, x):
    return gelu_tanh(x @ W[prefix + '.W_in'] + W[prefix + '.b_in']) @ W[prefix + '.W_out'] + W[prefix + '.b_out']


def main():
    model_dir, request = sys.argv[1], json.loads(sys.argv[2])
    cfg = json.load(open(model_dir + '/config.json'))['config']
    W = read_safetensors(model_dir + '/weights.safetensors')
    eps, heads = cfg['layerNormEps'], cfg['nHeads']
    src, tgt = request['source'], request['target']
    ln = lambda name, x: layer_norm(x, W[name + '.w'], W[name + '.b'], eps)

    x = W['encoder.embed.W_E'][src] + W['encoder.pos_embed.W_pos'][:len(src)]
    for i in range(cfg['encoderLayers']):
        b = 'encoder.blocks.%d' % i
        x = x + attention(W, b + '.attn', ln(b + '.ln1', x), ln(b + '.ln1', x), heads, False)[0]
        x = x + mlp(W, b + '.mlp', ln(b + '.ln2', x))
    memory = ln('encoder.ln_final', x)

    y = W['decoder.embed.W_E'][tgt] + W['decoder.pos_embed.W_pos'][:len(tgt)]
    cross = []
    for i in range(cfg['decoderLayers']):
        b = 'decoder.blocks.%d' % i
        y = y + attention(W, b + '.self_attn', ln(b + '.ln1', y), ln(b + '.ln1', y), heads, True)[0]
        out, pattern = attention(W, b + '.cross_attn', ln(b + '.ln2', y), memory, heads, False)
        cross.append(pattern.tolist())
        y = y + out
        y = y + mlp(W, b + '.mlp', ln(b + '.ln3', y))
    logits = ln('decoder.ln_final', y) @ W['decoder.embed.W_E'].T
    print(json.dumps({'logits': logits.tolist(), 'cross': cross}))


if __name__ == '__main__':
    main()
