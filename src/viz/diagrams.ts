// Architecture diagrams, drawn before the code that implements them: a convolution layer, the
// LSTM and GRU cells, and a transformer block with its residual stream. Each wire carries the
// hook point name this project gives it (conv.0.hook_conv, lstm.hook_gates_forget,
// blocks.0.attn.hook_pattern, ...), so the picture and `runWithCache` use the same words.
// Hand-laid SVG (see ./svg.ts for the palette and primitives); shown as SVG + PNG + text.
import type { MimeBundle } from '../engine/mime';
import { svgToPng } from './render';
import { Diagram, ROLE, OKABE_ITO } from './svg';

export type DiagramName = 'conv' | 'lstm' | 'gru' | 'transformer';

/** Every diagram, in course order (notebooks 02, 03, 03, 04). */
export const DIAGRAM_NAMES: DiagramName[] = ['conv', 'lstm', 'gru', 'transformer'];

// ---- conv layer ----------------------------------------------------------------------------

/** A stylised "2" on a 10x10 grid (1 = ink), standing in for a 28x28 digit. */
const DIGIT_MASK = [
  '..........',
  '...####...',
  '..##..##..',
  '......##..',
  '.....##...',
  '....##....',
  '...##.....',
  '..##......',
  '..######..',
  '..........',
];

function grid(d: Diagram, x: number, y: number, rows: number, cols: number, cell: number, fill: (r: number, c: number) => string, stroke = '#8aa'): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) d.rect(x + c * cell, y + r * cell, cell, cell, fill(r, c), stroke, 0.6);
}

/** A stack of `n` feature maps, the front one a grid with cell (hr, hc) highlighted. */
function mapStack(d: Diagram, x: number, y: number, size: number, cells: number, n: number, highlight: [number, number] | null, shade: (r: number, c: number) => string): void {
  const off = 5;
  for (let k = n - 1; k > 0; k--) d.rect(x + k * off, y - k * off, size, size, '#eef6fc', ROLE.data.stroke, 0.8);
  const cell = size / cells;
  grid(d, x, y, cells, cells, cell, shade, '#9bb');
  d.rect(x, y, size, size, 'none', ROLE.data.stroke, 1.2);
  if (highlight) d.rect(x + highlight[1] * cell, y + highlight[0] * cell, cell, cell, 'none', OKABE_ITO.vermillion, 2.2);
}

function convSvg(): string {
  const d = new Diagram(900, 470, 'A convolution layer: conv.0 of the digits CNN');
  d.text(20, 30, 'A convolution layer: conv.0 of the digits CNN', { size: 16, bold: true });
  d.text(20, 50, 'The same 3×3 filter slides over every position; each output is 9 products plus a bias.', { size: 12, fill: ROLE.muted });

  // Input image with the window.
  const ix = 30, iy = 90, cell = 16;
  const win: [number, number] = [2, 5]; // top-left of the 3x3 window on the 10x10 sketch
  grid(d, ix, iy, 10, 10, cell, (r, c) => (DIGIT_MASK[r][c] === '#' ? '#3a3a3a' : '#f4f4f4'), '#bbb');
  d.rect(ix + win[1] * cell, iy + win[0] * cell, 3 * cell, 3 * cell, 'none', OKABE_ITO.vermillion, 2.5);
  d.text(ix + 80, iy + 178, 'input x: 28 × 28 × 1', { size: 12, anchor: 'middle' });
  d.hook(ix + 80, iy + 194, 'pre.hook_normalized', 'middle');
  d.text(ix + 80, iy + 208, '[1, 28, 28, 1]', { size: 10.5, anchor: 'middle', mono: true, fill: ROLE.muted });

  // The window, enlarged, times the filter.
  const wx = 250, wy = 110, wc = 30;
  d.wire([[ix + (win[1] + 3) * cell, iy + win[0] * cell], [wx, wy]], { arrow: false, color: OKABE_ITO.vermillion, width: 1, dash: true });
  d.wire([[ix + (win[1] + 3) * cell, iy + (win[0] + 3) * cell], [wx, wy + 3 * wc]], { arrow: false, color: OKABE_ITO.vermillion, width: 1, dash: true });
  grid(d, wx, wy, 3, 3, wc, (r, c) => (DIGIT_MASK[win[0] + r][win[1] + c] === '#' ? '#3a3a3a' : '#f4f4f4'), '#999');
  d.rect(wx, wy, 3 * wc, 3 * wc, 'none', OKABE_ITO.vermillion, 2.5);
  d.text(wx + 45, wy - 10, 'window at (r, c)', { size: 12, anchor: 'middle' });
  d.text(wx + 45, wy + 108, 'x[r+dy, c+dx]', { size: 11, anchor: 'middle', mono: true });

  d.op(wx + 122, wy + 45, 'x');
  const fx = wx + 154;
  grid(d, fx, wy, 3, 3, wc, (r, c) => ['#fbe0b0', '#fdf0d8', '#f3c878'][(r * 3 + c * 2) % 3], ROLE.weight.stroke);
  d.text(fx + 45, wy - 10, 'filter f (3 × 3)', { size: 12, anchor: 'middle' });
  d.text(fx + 45, wy + 108, 'w[dy, dx, 0, f]', { size: 11, anchor: 'middle', mono: true });
  d.text(fx + 45, wy + 126, 'conv.0.weight', { size: 10.5, anchor: 'middle', mono: true, fill: '#7a5200' });
  d.text(fx + 45, wy + 140, '[3, 3, 1, 8]: 8 filters', { size: 10.5, anchor: 'middle', mono: true, fill: '#7a5200' });

  // Sum of the nine products plus the bias.
  const sx = fx + 90 + 60, sy = wy + 45;
  d.box(sx - 40, sy - 24, 80, 48, ROLE.act, 'Σ 9', 'products', { size: 13 });
  d.wire([[fx + 90, sy], [sx - 40, sy]]);
  d.op(sx + 72, sy, '+');
  d.wire([[sx + 40, sy], [sx + 61, sy]]);
  d.box(sx + 50, sy + 42, 44, 26, ROLE.weight, 'b_{f}', '', { size: 12 });
  d.wire([[sx + 72, sy + 42], [sx + 72, sy + 11]]);
  d.text(sx + 72, sy + 84, 'conv.0.bias', { size: 10.5, anchor: 'middle', mono: true, fill: '#7a5200' });
  d.text(sx + 72, sy + 98, '[8]', { size: 10.5, anchor: 'middle', mono: true, fill: '#7a5200' });

  // The output maps.
  const ox = 690, oy = 100, osz = 117;
  mapStack(d, ox, oy, osz, 9, 8, [2, 5], () => '#f7fbff');
  d.wire([[sx + 83, sy], [ox + 5.5 * 13, sy], [ox + 5.5 * 13, oy + 3 * 13 + 1]], { color: OKABE_ITO.vermillion, over: true, width: 2 });
  d.text(ox + 58, oy + osz + 22, 'out[r, c, f]: 26 × 26 × 8', { size: 12, anchor: 'middle' });
  d.hook(ox + 58, oy + osz + 38, 'conv.0.hook_conv', 'middle');
  d.text(ox + 58, oy + osz + 52, '[1, 26, 26, 8]', { size: 10.5, anchor: 'middle', mono: true, fill: ROLE.muted });

  d.text(250, 300, 'out[r, c, f] = b_{f} + Σ_{dy=0..2} Σ_{dx=0..2} x[r+dy, c+dx] · w[dy, dx, 0, f]', { size: 13 });
  d.text(250, 318, 'one output per position and filter: (28 − 3 + 1) = 26 positions a side, 8 filters', { size: 11.5, fill: ROLE.muted });

  // Then ReLU and pooling.
  const by = 395;
  d.rect(16, 340, 868, 1, '#dddddd');
  d.text(20, 362, 'then, in the same block:', { size: 12, fill: ROLE.muted });
  const stages: [string, string, string, number][] = [
    ['conv.0.hook_conv', '[1, 26, 26, 8]', '', 0],
    ['conv.0.hook_relu', '[1, 26, 26, 8]', 'ReLU: max(0, ·)', 1],
    ['conv.0.hook_pool', '[1, 13, 13, 8]', 'max pool 2 × 2', 2],
  ];
  let x = 40;
  for (const [hook, shape, opLabel, i] of stages) {
    if (i > 0) {
      d.box(x, by - 18, 130, 36, i === 1 ? ROLE.act : ROLE.fixed, opLabel, '', { size: 12 });
      d.wire([[x - 26, by], [x, by]]);
      d.wire([[x + 130, by], [x + 154, by]]);
      x += 154;
    }
    d.diamond(x + 4, by);
    d.hook(x + 14, by - 2, hook);
    d.text(x + 14, by + 14, shape, { size: 10.5, mono: true, fill: ROLE.muted });
    x += 150;
  }
  d.text(20, 448, 'conv.1 repeats the block with 16 filters of 3 × 3 × 8 (conv.1.hook_conv [1, 11, 11, 16], conv.1.hook_pool [1, 5, 5, 16]);', { size: 11.5, fill: ROLE.muted });
  d.text(20, 464, 'then flatten.hook_out [1, 400] → dense → hook_logits [1, 10] → softmax → post.hook_probs.', { size: 11.5, fill: ROLE.muted });
  return d.svg();
}

const CONV_TEXT = [
  'A convolution layer: conv.0 of the digits CNN',
  '  input x = pre.hook_normalized [1, 28, 28, 1]',
  '  out[r, c, f] = b[f] + sum over dy, dx in 0..2 of x[r+dy, c+dx] * w[dy, dx, 0, f]',
  '    weights conv.0.weight [3, 3, 1, 8] (8 filters of 3x3), conv.0.bias [8]',
  '  conv.0.hook_conv [1, 26, 26, 8] -> ReLU -> conv.0.hook_relu [1, 26, 26, 8] -> max pool 2x2 -> conv.0.hook_pool [1, 13, 13, 8]',
  '  conv.1: 16 filters of 3x3x8 -> conv.1.hook_conv [1, 11, 11, 16] ... conv.1.hook_pool [1, 5, 5, 16] -> flatten.hook_out [1, 400] -> hook_logits [1, 10]',
].join('\n');

// ---- LSTM cell -----------------------------------------------------------------------------

/** One gate row: activation box, hook diamond, the gate's letter and name above the wire, its hook below. */
function gateRow(d: Diagram, y: number, act: string, letter: string, name: string, hook: string, from: number, x0: number): void {
  d.box(x0, y - 14, 50, 28, ROLE.act, act, '', { size: act === 'σ' ? 15 : 12 });
  d.wire([[from, y], [x0, y]]);
  d.diamond(x0 + 70, y);
  d.text(x0 + 82, y - 7, `${letter}`, { size: 14, bold: true, italic: true });
  d.text(x0 + 96, y - 7, name, { size: 12, fill: ROLE.muted });
  d.hook(x0 + 82, y + 17, hook);
}

function lstmSvg(): string {
  const d = new Diagram(900, 478, 'LSTM cell (langid-lstm): one time step');
  d.text(20, 30, 'LSTM cell: one time step', { size: 16, bold: true });
  d.text(20, 50, 'The cell state c carries memory along the top; four gates, all computed from x_{t} and h_{t−1}, decide what to forget, write and show.', { size: 12, fill: ROLE.muted });
  const top = 88;
  const rows = { f: 150, i: 220, g: 290, o: 360 };
  const bx = 140, bw = 170, gx = 340;

  // Inputs.
  d.text(22, top - 6, 'c_{t−1}', { size: 14, bold: true });
  d.text(22, rows.i - 8, 'h_{t−1}', { size: 14, bold: true });
  d.text(22, rows.o - 8, 'x_{t}', { size: 14, bold: true });
  d.diamond(110, rows.o);
  d.hook(22, rows.o + 18, 'embed.hook_out', 'start', 10);
  d.wire([[22, rows.i], [bx, rows.i]]);
  d.wire([[22, rows.o], [bx, rows.o]]);

  // One matmul for all four gates.
  d.box(bx, rows.f - 30, bw, rows.o - rows.f + 60, ROLE.weight);
  d.text(bx + bw / 2, rows.f - 6, 'x_{t} W + h_{t−1} U + b', { size: 13, anchor: 'middle' });
  d.text(bx + bw / 2, rows.f + 12, 'one matmul, four gates', { size: 11, anchor: 'middle', fill: ROLE.muted });
  const wtext = ['lstm.kernel', '[embed, 4·units]', 'lstm.recurrent_kernel', '[units, 4·units]', 'lstm.bias [4·units]', 'columns: i, f, g, o'];
  wtext.forEach((t, k) => d.text(bx + bw / 2, rows.i + 22 + k * 16, t, { size: 10.5, anchor: 'middle', mono: k < 5, fill: '#7a5200' }));

  gateRow(d, rows.f, 'σ', 'f', 'forget gate', 'lstm.hook_gates_forget', bx + bw, gx);
  gateRow(d, rows.i, 'σ', 'i', 'input gate', 'lstm.hook_gates_input', bx + bw, gx);
  gateRow(d, rows.g, 'tanh', 'g', 'candidate values', 'lstm.hook_gates_candidate', bx + bw, gx);
  gateRow(d, rows.o, 'σ', 'o', 'output gate', 'lstm.hook_gates_output', bx + bw, gx);

  // The cell state line: c_{t-1} -> x f -> + i*g -> c_t.
  const xf = 620, xadd = 720, xo = 810;
  d.wire([[22, top], [xf - 11, top]]);
  d.op(xf, top, 'x');
  d.wire([[xf + 11, top], [xadd - 11, top]]);
  d.op(xadd, top, '+');
  d.wire([[xadd + 11, top], [870, top]]);
  d.diamond(765, top);
  d.hook(765, top - 12, 'lstm.hook_cell', 'middle');
  d.text(874, top + 5, 'c_{t}', { size: 14, bold: true });

  // f multiplies the old cell; i * g is added.
  d.wire([[gx + 50, rows.f], [xf, rows.f], [xf, top + 11]]);
  d.op(xadd, rows.i, 'x');
  d.wire([[gx + 50, rows.i], [xadd - 11, rows.i]]);
  d.wire([[gx + 50, rows.g], [xadd, rows.g], [xadd, rows.i + 11]]);
  d.wire([[xadd, rows.i - 11], [xadd, top + 11]]);

  // h_t = o * tanh(c_t).
  d.box(xo - 25, 205, 50, 26, ROLE.act, 'tanh', '', { size: 12 });
  d.wire([[xo, top], [xo, 205]]);
  d.junction(xo, top);
  d.op(xo, rows.o, 'x');
  d.wire([[xo, 231], [xo, rows.o - 11]]);
  d.wire([[gx + 50, rows.o], [xo - 11, rows.o]]);
  d.wire([[xo + 11, rows.o], [870, rows.o]]);
  d.diamond(845, rows.o);
  d.text(874, rows.o + 5, 'h_{t}', { size: 14, bold: true });
  d.hook(880, rows.o + 24, 'lstm.hook_hidden', 'end');

  d.text(20, 424, 'c_{t} = f ⊙ c_{t−1} + i ⊙ g        h_{t} = o ⊙ tanh(c_{t})        σ = logistic sigmoid (0..1), tanh (−1..1), ⊙ = elementwise product', { size: 12 });
  d.text(20, 444, 'h_{t−1} and c_{t−1} are lstm.hook_hidden and lstm.hook_cell at the step before (zeros at t = 0); h_{t} also feeds the head (head.hook_step_logits).', { size: 11.5, fill: ROLE.muted });
  d.text(20, 462, 'Each gate hook holds every step of the word at once: [batch, time, units].', { size: 11.5, fill: ROLE.muted });
  return d.svg();
}

const LSTM_TEXT = [
  'LSTM cell, one time step (src/models/rnn.ts, runLSTM)',
  '  inputs x_t (embed.hook_out at step t), h_{t-1}, c_{t-1} (lstm.hook_hidden, lstm.hook_cell at t-1)',
  '  z = x_t W + h_{t-1} U + b, split into 4 (kernel columns i, f, g, o)',
  '  i = sigmoid -> lstm.hook_gates_input     f = sigmoid -> lstm.hook_gates_forget',
  '  g = tanh    -> lstm.hook_gates_candidate o = sigmoid -> lstm.hook_gates_output',
  '  c_t = f * c_{t-1} + i * g -> lstm.hook_cell;  h_t = o * tanh(c_t) -> lstm.hook_hidden   (each [batch, time, units])',
].join('\n');

// ---- GRU cell ------------------------------------------------------------------------------

function gruSvg(): string {
  const d = new Diagram(900, 520, 'GRU cell (langid-gru): one time step');
  d.text(20, 30, 'GRU cell: one time step', { size: 16, bold: true });
  d.text(20, 50, 'No separate cell state: h itself is the memory. z decides how much of h_{t−1} to keep; r how much of it the candidate sees.', { size: 12, fill: ROLE.muted });
  const top = 88;
  const rows = { z: 160, xh: 235, r: 305, cand: 385 };
  const bx = 145, bw = 160, gx = 330;
  const branch = 116;

  // Inputs: h_{t-1} along the top, down the left to the gates and to the reset product; x_t from the left.
  d.text(22, top - 6, 'h_{t−1}', { size: 14, bold: true });
  d.wire([[22, top], [549, top]]);
  d.wire([[branch, top], [branch, rows.z], [bx, rows.z]]);
  d.wire([[branch, rows.z], [branch, rows.cand], [459, rows.cand]]);
  d.junction(branch, top);
  d.junction(branch, rows.z);
  d.text(22, rows.xh + 27, 'x_{t}', { size: 14, bold: true });
  d.hopWire(rows.xh + 35, 22, bx, branch);
  d.diamond(60, rows.xh + 35);
  d.hook(22, rows.xh + 53, 'embed.hook_out', 'start', 10);

  d.box(bx, rows.z - 35, bw, rows.r - rows.z + 70, ROLE.weight);
  d.text(bx + bw / 2, rows.z - 12, 'x_{t} W + b', { size: 13, anchor: 'middle' });
  d.text(bx + bw / 2, rows.z + 6, '+ h_{t−1} U_{zr}', { size: 13, anchor: 'middle' });
  d.text(bx + bw / 2, rows.z + 22, '(z and r only)', { size: 10.5, anchor: 'middle', fill: ROLE.muted });
  ['gru.kernel', '[embed, 3·units]', 'gru.recurrent_kernel', '[units, 3·units]', '= [U_{zr} | U_{h}]', 'gru.bias [3·units]'].forEach((t, k) =>
    d.text(bx + bw / 2, rows.xh + 8 + k * 15, t, { size: 10.5, anchor: 'middle', mono: k !== 4, fill: '#7a5200' }));

  // Gate rows.
  gateRow(d, rows.z, 'σ', 'z', 'update gate', 'gru.hook_gates_update', bx + bw, gx);
  gateRow(d, rows.r, 'σ', 'r', 'reset gate', 'gru.hook_gates_reset', bx + bw, gx);
  d.wire([[bx + bw, rows.xh], [600, rows.xh], [600, rows.cand - 11]]);
  d.text(gx + 10, rows.xh - 8, 'x_{t} W_{h} + b_{h}', { size: 12 });
  d.text(gx + 10, rows.xh + 15, "the candidate's input part", { size: 11, fill: ROLE.muted });

  // The reset gate multiplies h_{t-1} BEFORE the matmul with U_h.
  const xr = 470;
  d.op(xr, rows.cand, 'x');
  d.wire([[gx + 50, rows.r], [xr, rows.r], [xr, rows.cand - 11]]);
  d.box(500, rows.cand - 15, 60, 30, ROLE.weight, '· U_{h}', '', { size: 13 });
  d.wire([[xr + 11, rows.cand], [500, rows.cand]]);
  d.op(600, rows.cand, '+');
  d.wire([[560, rows.cand], [589, rows.cand]]);
  d.box(630, rows.cand - 14, 50, 28, ROLE.act, 'tanh', '', { size: 12 });
  d.wire([[611, rows.cand], [630, rows.cand]]);
  d.wire([[680, rows.cand], [739, rows.cand]]);
  d.diamond(700, rows.cand);
  d.text(440, rows.cand + 32, 'r ⊙ h_{t−1} first, then · U_{h}', { size: 11.5, anchor: 'middle', fill: ROLE.muted });
  d.text(700, rows.cand - 12, 'h̃', { size: 14, bold: true, italic: true, anchor: 'middle' });
  d.text(640, rows.cand + 30, 'candidate', { size: 12, fill: ROLE.muted });
  d.hook(640, rows.cand + 46, 'gru.hook_gates_candidate');

  // h_t = z * h_{t-1} + (1 - z) * candidate.
  const xz = 560, xn = 750, xsum = 810;
  d.op(xz, top, 'x');
  d.wire([[gx + 50, rows.z], [xz, rows.z], [xz, top + 11]]);
  d.junction(xz, rows.z);
  d.box(640, rows.z - 14, 56, 28, ROLE.fixed, '1 − z', '', { size: 12 });
  d.wire([[xz, rows.z], [640, rows.z]]);
  d.wire([[696, rows.z], [xn, rows.z], [xn, rows.cand - 11]]);
  d.op(xn, rows.cand, 'x');
  d.wire([[xn + 11, rows.cand], [xsum, rows.cand], [xsum, top + 11]]);
  d.wire([[xz + 11, top], [xsum - 11, top]]);
  d.op(xsum, top, '+');
  d.wire([[xsum + 11, top], [870, top]]);
  d.diamond(842, top);
  d.hook(880, top - 12, 'gru.hook_hidden', 'end');
  d.text(874, top + 5, 'h_{t}', { size: 14, bold: true });

  d.text(20, 458, 'h̃ = tanh(x_{t} W_{h} + (r ⊙ h_{t−1}) U_{h} + b_{h})        h_{t} = z ⊙ h_{t−1} + (1 − z) ⊙ h̃        (z, r = σ of their rows)', { size: 12 });
  d.text(20, 478, 'Reset before the matmul: Keras reset_after = false, what tfjs-layers implements. PyTorch\'s nn.GRU resets after it: r ⊙ (W_{hn} h_{t−1} + b_{hn}).', { size: 11.5, fill: ROLE.muted });
  d.text(20, 496, 'h_{t−1} is gru.hook_hidden at the step before (zeros at t = 0). Each gate hook holds every step at once: [batch, time, units].', { size: 11.5, fill: ROLE.muted });
  return d.svg();
}

const GRU_TEXT = [
  'GRU cell, one time step (src/models/rnn.ts, runGRU; Keras reset_after=false)',
  '  inputs x_t (embed.hook_out at step t), h_{t-1} (gru.hook_hidden at t-1)',
  '  z = sigmoid(x_t W_z + h_{t-1} U_z + b_z) -> gru.hook_gates_update',
  '  r = sigmoid(x_t W_r + h_{t-1} U_r + b_r) -> gru.hook_gates_reset',
  '  h~ = tanh(x_t W_h + (r * h_{t-1}) U_h + b_h) -> gru.hook_gates_candidate   (reset applied BEFORE the matmul)',
  '  h_t = z * h_{t-1} + (1 - z) * h~ -> gru.hook_hidden   (each [batch, time, units])',
].join('\n');

// ---- transformer block ---------------------------------------------------------------------

function transformerSvg(): string {
  const d = new Diagram(900, 872, 'A transformer block and its residual stream (tiny GPT)');
  d.text(20, 30, 'A transformer block and the residual stream', { size: 16, bold: true });
  d.text(20, 50, 'Each block reads the stream and adds its result back: attention moves information between positions, the MLP works on each one.', { size: 12, fill: ROLE.muted });

  const sx = 170; // the residual stream
  const yAdd1 = 395, yAdd2 = 262;
  const stream = { width: 5, color: ROLE.stream };

  // Embeddings, below the first block.
  d.box(sx - 70, 808, 140, 26, ROLE.data, 'token ids [batch, pos]', '', { size: 11 });
  d.box(sx - 50, 758, 100, 26, ROLE.weight, 'W_E[id]', '', { size: 12 });
  d.wire([[sx, 808], [sx, 784]]);
  d.wire([[sx, 758], [sx, 726]]);
  d.diamond(sx, 740);
  d.hook(sx - 12, 744, 'hook_embed', 'end');
  d.op(sx, 715, '+');
  d.box(280, 701, 96, 28, ROLE.weight, 'W_pos[pos]', '', { size: 12 });
  d.wire([[280, 715], [sx + 11, 715]]);
  d.diamond(230, 715);
  d.hook(244, 740, 'hook_pos_embed', 'middle');

  // The stream.
  d.wire([[sx, 704], [sx, yAdd1 + 11]], { ...stream, arrow: false });
  d.wire([[sx, yAdd1 - 11], [sx, yAdd2 + 11]], { ...stream, arrow: false });
  d.wire([[sx, yAdd2 - 11], [sx, 140]], stream);
  d.text(sx - 12, 530, 'residual', { size: 12, anchor: 'end', bold: true, fill: ROLE.stream });
  d.text(sx - 12, 545, 'stream', { size: 12, anchor: 'end', bold: true, fill: ROLE.stream });
  d.text(sx - 12, 561, '[batch, pos,', { size: 10.5, anchor: 'end', mono: true, fill: ROLE.stream });
  d.text(sx - 12, 574, 'd_model]', { size: 10.5, anchor: 'end', mono: true, fill: ROLE.stream });
  const streamHook = (y: number, name: string) => {
    d.diamond(sx, y);
    d.hook(sx - 12, y + 4, name, 'end', 10.5);
  };
  streamHook(676, 'blocks.0.hook_resid_pre');
  streamHook(372, 'blocks.0.hook_resid_mid');
  streamHook(236, 'blocks.0.hook_resid_post');

  // The block frame.
  d.raw('<rect x="8" y="208" width="882" height="484" rx="12" fill="none" stroke="#999999" stroke-dasharray="6 4"/>');
  d.text(880, 228, 'blocks.0: one of the tiny GPT\'s 4 blocks (blocks.0 … blocks.3)', { size: 12, anchor: 'end', bold: true });

  // Attention: ln1 -> q, k, v -> scores -> pattern -> pattern . v -> W_O -> add.
  const yIn = 650, yq = 560, yk = 605;
  d.box(200, yIn - 14, 90, 28, ROLE.fixed, 'LayerNorm', '', { size: 11.5 });
  d.wire([[sx, yIn], [200, yIn]]);
  d.junction(sx, yIn, ROLE.stream);
  d.diamond(308, yIn);
  d.hook(200, yIn + 28, 'blocks.0.ln1.hook_normalized', 'start', 10.5);
  d.wire([[290, yIn], [345, yIn]]);
  d.wire([[330, yIn], [330, yq], [345, yq]]);
  d.wire([[330, yk], [345, yk]]);
  d.junction(330, yIn);
  d.junction(330, yk);
  d.box(345, yq - 13, 60, 26, ROLE.weight, 'W_Q', '', { size: 12 });
  d.box(345, yk - 13, 60, 26, ROLE.weight, 'W_K', '', { size: 12 });
  d.box(345, yIn - 13, 60, 26, ROLE.weight, 'W_V', '', { size: 12 });
  const scoreX = 590;
  for (const [y, name] of [[yq, 'q'], [yk, 'k']] as const) {
    d.wire([[405, y], [scoreX, y]]);
    d.diamond(422, y);
    d.hook(432, y - 7, `blocks.0.attn.hook_${name}`, 'start', 10.5);
  }
  d.text(432, yk + 17, '[batch, pos, head, d_head]', { size: 10, mono: true, fill: ROLE.muted });
  d.box(scoreX, yq - 18, 110, yk - yq + 36, ROLE.data, 'q · k^{T} / √d_{head}', 'per head', { size: 12 });
  const vx = 850;
  d.wire([[405, yIn], [vx, yIn], [vx, 477]]);
  d.diamond(422, yIn);
  d.hook(432, yIn - 7, 'blocks.0.attn.hook_v', 'start', 10.5);
  const cx = scoreX + 55;
  d.wire([[cx, yq - 18], [cx, 512]]);
  d.diamond(cx, 528);
  d.hook(cx + 10, 532, 'blocks.0.attn.hook_attn_scores', 'start', 10.5);
  d.box(cx - 55, 472, 110, 40, ROLE.act, 'causal mask,', 'softmax', { size: 12 });
  d.wire([[cx, 472], [cx, 432], [780, 432]]);
  d.diamond(cx, 450);
  d.hook(cx - 10, 446, 'blocks.0.attn.hook_pattern', 'end', 10.5);
  d.text(cx - 10, 460, '[batch, head, query_pos, key_pos]', { size: 10, anchor: 'end', mono: true, fill: ROLE.muted });
  d.box(780, 417, 100, 60, ROLE.data, 'pattern · v', 'per head', { size: 12 });
  d.wire([[830, 417], [830, yAdd1], [680, yAdd1]]);
  d.diamond(760, yAdd1);
  d.hook(760, yAdd1 - 10, 'blocks.0.attn.hook_z', 'middle', 10.5);
  d.box(620, yAdd1 - 14, 60, 28, ROLE.weight, 'W_O', '', { size: 12 });
  d.wire([[620, yAdd1], [sx + 11, yAdd1]]);
  d.diamond(460, yAdd1);
  d.hook(460, yAdd1 - 10, 'blocks.0.hook_attn_out', 'middle', 10.5);
  d.op(sx, yAdd1, '+');
  d.text(350, 500, 'attention:', { size: 13, bold: true, fill: '#0b4f7a' });
  d.text(350, 517, 'mixes positions', { size: 13, bold: true, fill: '#0b4f7a' });

  // MLP: ln2 -> W_in -> GELU -> W_out -> add.
  const yM = 340;
  d.box(200, yM - 14, 90, 28, ROLE.fixed, 'LayerNorm', '', { size: 11.5 });
  d.wire([[sx, yM], [200, yM]]);
  d.junction(sx, yM, ROLE.stream);
  d.diamond(308, yM);
  d.hook(186, yM + 30, 'blocks.0.ln2.hook_normalized', 'start', 10.5);
  d.box(330, yM - 14, 60, 28, ROLE.weight, 'W_in', '', { size: 12 });
  d.wire([[290, yM], [330, yM]]);
  d.wire([[390, yM], [565, yM]]);
  d.diamond(405, yM);
  d.hook(415, yM - 7, 'blocks.0.mlp.hook_pre', 'start', 10.5);
  d.text(415, yM + 17, '[batch, pos, d_mlp]', { size: 10, mono: true, fill: ROLE.muted });
  d.box(565, yM - 14, 56, 28, ROLE.act, 'GELU', '', { size: 12 });
  d.wire([[621, yM], [795, yM]]);
  d.diamond(636, yM);
  d.hook(646, yM - 7, 'blocks.0.mlp.hook_post', 'start', 10.5);
  d.box(795, yM - 14, 64, 28, ROLE.weight, 'W_out', '', { size: 12 });
  d.wire([[827, yM - 14], [827, yAdd2], [sx + 11, yAdd2]]);
  d.diamond(460, yAdd2);
  d.hook(460, yAdd2 - 10, 'blocks.0.hook_mlp_out', 'middle', 10.5);
  d.op(sx, yAdd2, '+');
  d.text(350, 300, 'MLP: each position alone', { size: 13, bold: true, fill: '#0b4f7a' });

  // After the last block.
  d.box(sx - 65, 112, 130, 28, ROLE.fixed, 'LayerNorm (final)', '', { size: 11 });
  d.wire([[sx, 112], [sx, 90], [430, 90]]);
  d.diamond(250, 90);
  d.hook(260, 84, 'ln_final.hook_normalized', 'start', 10.5);
  d.box(430, 76, 120, 28, ROLE.weight, 'unembed W_E^{T}', '', { size: 12 });
  d.wire([[550, 90], [600, 90]]);
  d.diamond(575, 90);
  d.hook(608, 94, 'hook_logits [batch, pos, vocab]', 'start', 10.5);
  d.text(sx + 75, 131, 'after the last block (blocks.3)', { size: 11.5, fill: ROLE.muted });

  d.text(20, 860, 'Pre-LayerNorm (GPT-2): resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid)).', { size: 11, fill: ROLE.muted });
  return d.svg();
}

const TRANSFORMER_TEXT = [
  'A transformer block and its residual stream (src/models/gpt.ts; pre-LayerNorm, as GPT-2)',
  '  hook_embed + hook_pos_embed -> blocks.0.hook_resid_pre [batch, pos, d_model]',
  '  ln1 -> blocks.0.ln1.hook_normalized -> W_Q, W_K, W_V -> blocks.0.attn.hook_q / hook_k / hook_v [batch, pos, head, d_head]',
  '     q k^T / sqrt(d_head) -> blocks.0.attn.hook_attn_scores; causal mask + softmax -> blocks.0.attn.hook_pattern [batch, head, query_pos, key_pos]',
  '     pattern . v -> blocks.0.attn.hook_z -> W_O -> blocks.0.hook_attn_out',
  '  resid_pre + attn_out -> blocks.0.hook_resid_mid',
  '  ln2 -> blocks.0.ln2.hook_normalized -> W_in -> blocks.0.mlp.hook_pre [batch, pos, d_mlp] -> GELU -> blocks.0.mlp.hook_post -> W_out -> blocks.0.hook_mlp_out',
  '  resid_mid + mlp_out -> blocks.0.hook_resid_post (= the next block\'s hook_resid_pre)',
  '  after the last block: ln_final.hook_normalized -> unembed -> hook_logits [batch, pos, vocab]',
].join('\n');

// ---- public --------------------------------------------------------------------------------

const BUILDERS: Record<DiagramName, { svg: () => string; text: string }> = {
  conv: { svg: convSvg, text: CONV_TEXT },
  lstm: { svg: lstmSvg, text: LSTM_TEXT },
  gru: { svg: gruSvg, text: GRU_TEXT },
  transformer: { svg: transformerSvg, text: TRANSFORMER_TEXT },
};

function builder(name: DiagramName): { svg: () => string; text: string } {
  const b = BUILDERS[name];
  if (!b) throw new Error(`Unknown diagram "${name}". Known diagrams: ${DIAGRAM_NAMES.join(', ')}.`);
  return b;
}

/** The diagram as an SVG string (at most 900 px wide, on a white card). */
export function diagramSvg(name: DiagramName): string {
  return builder(name).svg();
}

/**
 * A diagram to show in a notebook: SVG (sharp, when the notebook is trusted), PNG (GitHub,
 * untrusted notebooks) and a text version that names every hook point.
 */
export async function diagram(name: DiagramName): Promise<MimeBundle> {
  const b = builder(name);
  const svg = b.svg();
  return { 'image/svg+xml': svg, 'image/png': svgToPng(svg).toString('base64'), 'text/plain': b.text };
}
