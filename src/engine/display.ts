// Showing things from code: in the Inference Lab kernel a display is a MIME bundle sent to the
// notebook (updatable in place by id); anywhere else it is the bundle's text on stdout.
//
// Lower layers (hooks, models, optimize, train) never import the charts: they ask for a view by
// kind (`viewOf('trace', trace)`) and viz fills this registry when the library loads (src/viz/
// register.ts, imported by src/index.ts). Without viz loaded, a view is its text.
import { hasMimeBundle, kernelBridge, type MimeBundle } from './mime';

type ViewBuilder = (value: never) => MimeBundle | Promise<MimeBundle>;
const views = new Map<string, ViewBuilder>();

/** Register how a kind of value is drawn (viz does this for every kind it knows). */
export function registerView<T>(kind: string, build: (value: T) => MimeBundle | Promise<MimeBundle>): void {
  views.set(kind, build as ViewBuilder);
}

/** The picture of `value` as the registered view of `kind` draws it; its text when none is registered. */
export async function viewOf<T>(kind: string, value: T, text: () => string = () => String(value)): Promise<MimeBundle> {
  const build = views.get(kind) as ((value: T) => MimeBundle | Promise<MimeBundle>) | undefined;
  return build ? build(value) : { 'text/plain': text() };
}

/** Whether viz has registered a view of `kind`. */
export function hasView(kind: string): boolean {
  return views.has(kind);
}

async function resolveBundle(x: unknown): Promise<MimeBundle> {
  const value = await x;
  if (hasMimeBundle(value)) return value.toMimeBundle();
  if (typeof value === 'object' && value !== null && typeof (value as MimeBundle)['text/plain'] === 'string') return value as MimeBundle;
  return { 'text/plain': typeof value === 'string' ? value : String(value) };
}

/** Display a chart, a model, a trace (anything with toMimeBundle), a bundle, or a promise of one. */
export async function display(x: unknown, options: { id?: string } = {}): Promise<void> {
  const bundle = await resolveBundle(x);
  const bridge = kernelBridge();
  if (bridge) bridge.display(bundle, { displayId: options.id });
  else process.stdout.write(bundle['text/plain'] + '\n');
}

/** Replace the output shown earlier with `display(x, {id})`. */
export async function update(x: unknown, options: { id: string }): Promise<void> {
  const bundle = await resolveBundle(x);
  const bridge = kernelBridge();
  if (bridge) bridge.display(bundle, { displayId: options.id, update: true });
  else process.stdout.write(bundle['text/plain'] + '\n');
}

let progressCounter = 0;

export interface ProgressBar {
  /** Advance by `n` (default 1); `detail` replaces the text after the counter (e.g. "loss 0.31"). */
  tick(n?: number, detail?: string): void;
  /** Finish: the bar shows its final state. */
  done(detail?: string): void;
}

/**
 * A text progress bar. In the kernel it is one output updated in place (update_display_data), so
 * a saved notebook keeps only its final line; in a terminal it redraws one line on stderr.
 */
export function progressBar(total: number, label = ''): ProgressBar {
  const id = `inference-lab-progress-${process.pid}-${++progressCounter}`;
  const bridge = kernelBridge();
  const started = Date.now();
  let current = 0;
  let lastDraw = 0;
  let text = '';
  const line = () => {
    const width = 30;
    const filled = Math.round((width * Math.min(current, total)) / Math.max(1, total));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    return `${label ? label + ' ' : ''}[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${current}/${total} ${seconds}s${text ? '  ' + text : ''}`;
  };
  const tty = Boolean(process.stderr.isTTY);
  let lastTenth = -1;
  const draw = (final: boolean) => {
    if (!final && Date.now() - lastDraw < 100) return; // at most 10 redraws a second
    if (!bridge && !tty && !final) {
      // A log file, not a terminal: one line per tenth of the work instead of carriage returns.
      const tenth = Math.floor((10 * current) / Math.max(1, total));
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      lastDraw = Date.now();
      process.stderr.write(`${line()}\n`);
      return;
    }
    lastDraw = Date.now();
    if (bridge) bridge.display({ 'text/plain': line() }, { displayId: id, update: current > 0 || final });
    else process.stderr.write(tty ? `\r${line()}${final ? '\n' : ''}` : `${line()}\n`);
  };
  if (bridge) bridge.display({ 'text/plain': line() }, { displayId: id });
  return {
    tick(n = 1, detail?: string) {
      current += n;
      if (detail !== undefined) text = detail;
      draw(false);
    },
    done(detail?: string) {
      if (detail !== undefined) text = detail;
      current = Math.max(current, total);
      draw(true);
    },
  };
}
