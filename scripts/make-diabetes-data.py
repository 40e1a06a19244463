#!/usr/bin/env python3
"""Write assets/diabetes/diabetes.json: the raw (unstandardised) diabetes data set that
scikit-learn ships inside its wheel (sklearn/datasets/data/diabetes_data_raw.csv.gz and
diabetes_target.csv.gz), so the course needs neither scikit-learn nor a download at run time.

Run once, with scikit-learn installed in the project's venv (it is not a dependency):
    .venv/bin/pip install scikit-learn && .venv/bin/python scripts/make-diabetes-data.py
"""
import json
import os

import sklearn
from sklearn.datasets import load_diabetes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'assets', 'diabetes', 'diabetes.json')

# scaled=False: the values as measured (age in years, BMI in kg/m^2, ...), not sklearn's
# mean-centred columns scaled to unit sum of squares.
data = load_diabetes(scaled=False)
features = list(data.feature_names)
rows = [[float(v) for v in row] for row in data.data]
targets = [float(t) for t in data.target]
assert len(rows) == 442 and len(features) == 10 and len(targets) == 442

doc = {
    'name': 'diabetes',
    'description': (
        'Ten baseline variables (age, sex, body mass index, average blood pressure and six blood serum measurements) '
        'of 442 diabetes patients, and the response: a quantitative measure of disease progression one year after baseline.'
    ),
    'source': (
        'Bradley Efron, Trevor Hastie, Iain Johnstone and Robert Tibshirani (2004), "Least Angle Regression", '
        'Annals of Statistics 32(2), 407-499; data page https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html. '
        f'Copied unchanged (raw, unstandardised) from scikit-learn {sklearn.__version__} '
        '(sklearn/datasets/data/diabetes_data_raw.csv.gz, diabetes_target.csv.gz) by scripts/make-diabetes-data.py.'
    ),
    'licence': (
        'Redistributed in scikit-learn under its BSD-3-Clause licence; the original authors publish the data for '
        'research without stating a licence of their own.'
    ),
    'features': features,
    'featureInfo': {
        'age': 'age in years',
        'sex': 'sex, coded 1 or 2 (the source does not say which is which)',
        'bmi': 'body mass index (kg/m^2)',
        'bp': 'average blood pressure',
        's1': 'tc, total serum cholesterol',
        's2': 'ldl, low-density lipoproteins',
        's3': 'hdl, high-density lipoproteins',
        's4': 'tch, total cholesterol / HDL',
        's5': 'ltg, possibly log of serum triglycerides level',
        's6': 'glu, blood sugar level',
    },
    'target': 'disease progression one year after baseline (a quantitative score, no unit given)',
    'rows': rows,
    'targets': targets,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump(doc, f, separators=(',', ':'))
    f.write('\n')
print(f'wrote {OUT}: {len(rows)} patients x {len(features)} features')
