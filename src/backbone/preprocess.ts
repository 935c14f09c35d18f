/**
 * Input preprocessing the backbone weights expect. Keras' MobileNetV2 ImageNet weights (and the TF.js layers
 * conversions Teachable Machine serves) were trained on RGB scaled to [-1, 1]: x / 127.5 - 1
 * (keras.applications.mobilenet_v2.preprocess_input, mode 'tf'). The original notebook fed raw 0-255 BGR
 * pixels (cv2.imread order, no scaling) to torchvision's ImageNet model, which expects RGB normalised with the
 * ImageNet mean/std: both the range and the colour order were wrong there.
 */
export type Normalization = 'minus1to1' | 'zero1';

export const MOBILENET_INPUT_SIZE = 224;
export const MOBILENET_FEATURE_DIM = 1280;

/** Scale factor and offset for `x * scale + offset`. */
export function normalizationConstants(normalization: Normalization): { scale: number; offset: number } {
  return normalization === 'minus1to1' ? { scale: 1 / 127.5, offset: -1 } : { scale: 1 / 255, offset: 0 };
}

/**
 * RGB uint8 pixels (any layout, RGB interleaved) to normalised float32. `out` may be given to reuse a buffer.
 */
export function normalizePixels(rgb: Uint8Array, normalization: Normalization, out?: Float32Array): Float32Array {
  const { scale, offset } = normalizationConstants(normalization);
  const dst = out ?? new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) dst[i] = rgb[i]! * scale + offset;
  return dst;
}

/**
 * RGB <-> BGR for interleaved uint8 pixels (a copy). What cv2.imread hands over is BGR; the original fed that
 * order to an RGB model. The notebooks use this to show the frame the original's model actually saw.
 */
export function swapRedBlue(pixels: Uint8Array): Uint8Array {
  if (pixels.length % 3 !== 0) throw new RangeError(`${pixels.length} values are not whole RGB pixels`);
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i += 3) {
    out[i] = pixels[i + 2]!;
    out[i + 1] = pixels[i + 1]!;
    out[i + 2] = pixels[i]!;
  }
  return out;
}
