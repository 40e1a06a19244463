// The per-step error chart of the compare page and notebook 07 fits the 900 px column whether the
// model has 15 steps (the digits CNN, bars side by side) or 60 (a GPT, steps down the side), and
// draws with no Vega warning.
import { describe, expect, test } from 'vitest';
import { layerErrorView } from '../src/viz/quant-views';
import { renderChecked, svgSize } from '../src/viz/render';
import type { LayerError } from '../src/optimize/analyze';

const steps = (n: number): LayerError[] =>
  Array.from({ length: n }, (_, i) => ({ name: `blocks.${Math.floor(i / 15)}.attn.hook_step_${i}`, kind: 'linear', sqnrDb: i === 0 ? Infinity : 20 + (i % 5), mse: 1e-3, cosine: 0.999, maxAbs: 0.1 }));

describe('layerErrorView', () => {
  test.each([
    ['a GPT, propagated only', 62, false, 'y'],
    ['the digits CNN, propagated and isolated', 12, true, 'x'],
    ['30 steps with isolated', 30, true, 'y'],
  ])('%s: within 900 px, steps on the right axis', async (_name, n, withIsolated, stepAxis) => {
    const rows = steps(n);
    const bundle = await layerErrorView(rows, withIsolated ? rows.map((r) => ({ ...r, sqnrDb: r.sqnrDb + 3 })) : null, 'error at each step');
    const spec = bundle['application/vnd.vegalite.v5+json'] as { encoding: Record<string, { field?: string }> };
    expect(spec.encoding[stepAxis].field).toBe('name');
    const { svg, warnings } = await renderChecked(spec as Record<string, unknown>);
    expect(warnings).toEqual([]);
    expect(svgSize(svg)!.width).toBeLessThanOrEqual(900);
    // Every finite step is drawn: one bar per step and mode.
    expect((svg.match(/aria-roledescription="bar"/g) ?? []).length).toBe((n - 1) * (withIsolated ? 2 : 1));
  });
});
