"""Independent reference for the regression models (test/regression.test.ts), in numpy only.

Reads the raw diabetes rows, applies the same split rule (every 5th patient held out), and prints
JSON with:
  - lstsq: ordinary least squares on the training rows (numpy.linalg.lstsq with an intercept
    column, float64): its coefficients per raw feature, intercept and held-out predictions;
  - forward: each model directory's held-out predictions computed by hand from its
    weights.safetensors (parsed here, not by the library) and config.json;
  - metrics: MAE and RMSE of given predictions (a JSON file of {"predicted": [...], "actual": [...]}).
Usage: regression_reference.py DATA.json MODEL_DIR... [--metrics FILE]
"""
import json
import sys

import numpy as np

from safetensors_np import read_safetensors


def forward(model_dir, rows):
    config = json.load(open(f'{model_dir}/config.json'))['config']
    w = read_safetensors(f'{model_dir}/weights.safetensors')
    x = (rows - np.array(config['featureMean'])) / np.array(config['featureStd'])
    layers = len(config['hidden']) + 1
    for i in range(layers):
        x = x @ w[f'layers.{i}.weight'] + w[f'layers.{i}.bias']
        if i + 1 < layers:
            x = np.maximum(x, 0.0)
    return x[:, 0] * config['targetStd'] + config['targetMean']


def main():
    args = sys.argv[1:]
    metrics_file = None
    if '--metrics' in args:
        k = args.index('--metrics')
        metrics_file = args[k + 1]
        del args[k:k + 2]
    data = json.load(open(args[0]))
    rows = np.array(data['rows'], dtype=np.float64)
    targets = np.array(data['targets'], dtype=np.float64)
    held = np.arange(len(rows)) % 5 == 4
    train_x, train_y = rows[~held], targets[~held]
    design = np.hstack([np.ones((train_x.shape[0], 1)), train_x])
    coef, *_ = np.linalg.lstsq(design, train_y, rcond=None)
    held_design = np.hstack([np.ones((int(held.sum()), 1)), rows[held]])
    out = {
        'n_train': int((~held).sum()),
        'n_held_out': int(held.sum()),
        'train_mean': float(train_y.mean()),
        'held_out_targets': targets[held].tolist(),
        'lstsq': {
            'intercept': float(coef[0]),
            'coefficients': coef[1:].tolist(),
            'held_out_predictions': (held_design @ coef).tolist(),
            'train_mse': float(np.mean((design @ coef - train_y) ** 2)),
        },
        'forward': {d: forward(d, rows[held]).tolist() for d in args[1:]},
    }
    if metrics_file:
        m = json.load(open(metrics_file))
        e = np.array(m['predicted'], dtype=np.float64) - np.array(m['actual'], dtype=np.float64)
        out['metrics'] = {'mae': float(np.mean(np.abs(e))), 'rmse': float(np.sqrt(np.mean(e ** 2)))}
    print(json.dumps(out))


main()
