// Preprocessing of a CT slice, the step before any medical model: the stored pixel values become
// Hounsfield units (HU: water 0, air about -1000) by the DICOM rescale, HU = stored * slope +
// intercept, and a window (centre, width in HU) maps the tissue of interest onto 0..255 grey;
// everything below the window is black, everything above it white.
import { tf, type Tensor } from '../engine/tf';

/** Common CT windows (centre, width) in HU: what a radiologist picks to see one kind of tissue. */
export const CT_WINDOWS: Record<string, { center: number; width: number }> = {
  'soft tissue': { center: 40, width: 400 },
  lung: { center: -600, width: 1500 },
  bone: { center: 400, width: 1800 },
};

/** Stored values -> Hounsfield units: stored * slope + intercept (DICOM Rescale Slope / Intercept). */
export function hounsfieldUnits(stored: Tensor, slope: number, intercept: number): Tensor {
  if (!Number.isFinite(slope) || !Number.isFinite(intercept) || slope === 0) throw new Error(`hounsfieldUnits: expected a finite, non-zero rescale slope and a finite intercept; got slope ${slope}, intercept ${intercept}.`);
  return tf.tidy(() => tf.add(tf.mul(tf.cast(stored, 'float32'), slope), intercept)); // [h, w] HU
}

/** HU -> grey 0..255: centre - width/2 is black, centre + width/2 white, linear between. */
export function applyWindow(hu: Tensor, center: number, width: number): Tensor {
  if (!Number.isFinite(center) || !(width > 0)) throw new Error(`applyWindow: expected a finite centre and a positive width in HU; got centre ${center}, width ${width}.`);
  const low = center - width / 2;
  return tf.tidy(() => tf.mul(tf.clipByValue(tf.div(tf.sub(hu, low), width), 0, 1), 255)); // [h, w] grey 0..255
}
