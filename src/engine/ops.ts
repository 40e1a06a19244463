import { tf, type Tensor } from './tf';

/**
 * 2-D convolution (stride 1, 'valid') as im2col + one matMul.
 * Why: the WASM backend has no Conv2DBackpropFilter kernel, so tf.conv2d cannot be trained there;
 * slices, concat and matMul all have WASM gradients. Same numbers as tf.conv2d (tested).
 */
export function conv2dViaMatmul(x: Tensor, kernel: Tensor): Tensor {
  return tf.tidy(() => {
    const [batch, height, width, inCh] = x.shape; // x: [batch, h, w, in]
    const [kh, kw, , outCh] = kernel.shape; // kernel: [kh, kw, in, out]
    const outH = height - kh + 1;
    const outW = width - kw + 1;
    const patches: Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        patches.push(tf.slice(x, [0, i, j, 0], [batch, outH, outW, inCh])); // [batch, outH, outW, in]
      }
    }
    const columns = tf.reshape(tf.concat(patches, 3), [batch * outH * outW, kh * kw * inCh]); // [batch*outH*outW, kh*kw*in]
    const flatKernel = tf.reshape(kernel, [kh * kw * inCh, outCh]); // [kh*kw*in, out]; HWIO order matches the patch order
    return tf.reshape(tf.matMul(columns, flatKernel), [batch, outH, outW, outCh]); // [batch, outH, outW, out]
  });
}
