#!/usr/bin/env python3
"""Write assets/medical/ct-small.npy (the stored pixel values, int16, 128x128) and
assets/medical/ct-small.json (the DICOM fields preprocessing needs) from CT_small.dcm, the CT slice
pydicom ships inside its wheel (pydicom/data/test_files/CT_small.dcm), so notebook 13 needs neither
pydicom nor a download. Run once: .venv/bin/pip install pydicom && .venv/bin/python scripts/make-ct-data.py
"""
import json
import os

import numpy as np
import pydicom
from pydicom.data import get_testdata_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'assets', 'medical')

source = get_testdata_file('CT_small.dcm')
ds = pydicom.dcmread(source)
pixels = ds.pixel_array  # the stored values, before the rescale to Hounsfield units
assert pixels.shape == (128, 128) and pixels.dtype == np.int16
os.makedirs(OUT, exist_ok=True)
np.save(os.path.join(OUT, 'ct-small.npy'), pixels.astype(np.int32))  # int16 in the file; int32 holds the same values and the library's .npy reader takes it
meta = {
    'file': 'ct-small.npy',
    'modality': str(ds.Modality),
    'rows': int(ds.Rows),
    'columns': int(ds.Columns),
    'rescaleSlope': float(ds.RescaleSlope),
    'rescaleIntercept': float(ds.RescaleIntercept),
    'bitsStored': int(ds.BitsStored),
    'storedDtype': 'int16 in the DICOM file; saved as int32 (the same values)',
    'source': (
        f'CT_small.dcm from pydicom {pydicom.__version__} (pydicom/data/test_files/), whose README says it was downsized '
        "to 128x128 from 'CT1_UNC' of NEMA's DICOM WG04 compression test images (ftp://medical.nema.org/MEDICAL/Dicom/DataSets/WG04/); "
        'pixel values copied unchanged by scripts/make-ct-data.py'
    ),
    'licence': 'pydicom is MIT-licensed; its README states no separate licence for this test file',
}
with open(os.path.join(OUT, 'ct-small.json'), 'w') as f:
    json.dump(meta, f, indent=2)
    f.write('\n')
print(meta)
