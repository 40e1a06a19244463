// The command line of `inference-lab`: node:util's parseArgs splits it (values, `--flag=value`,
// `--` to end the options), and this file checks it against the flags each command takes, so a
// mistake gets one line that says what was expected. Values stay strings; each command checks
// its own numbers and choices.
import { parseArgs } from 'node:util';

/** The flags of one command: name -> 'string' (takes a value) or 'boolean' (a switch). */
export type FlagSpec = Record<string, 'string' | 'boolean'>;

/** A parsed command line: the words (command first) and the flags given. */
export interface Args {
  positional: string[];
  /** A valued flag maps to its value, a switch to `true`. */
  flags: Map<string, string | true>;
}

/** A mistake in the command line (the CLI prints it in one line and exits 2). */
export class UsageError extends Error {}

const names = (spec: FlagSpec) => Object.keys(spec).map((n) => `--${n}`).join(', ');

/**
 * Parse `argv` (without node and the script). The first word picks the command; a flag that
 * the command does not take, a valued flag without its value, a switch given a value and a
 * flag given twice are usage errors. `common` flags (e.g. --help) go with every command; a
 * command not in `commands` is left for the caller to report, with any flag any command takes.
 */
export function parseCommandLine(argv: string[], commands: Record<string, FlagSpec>, common: FlagSpec = {}): Args {
  const all: FlagSpec = { ...common };
  for (const spec of Object.values(commands)) {
    for (const [name, type] of Object.entries(spec)) {
      if (all[name] && all[name] !== type) throw new Error(`cli-args: --${name} is a ${all[name]} flag in one command and a ${type} flag in another.`);
      all[name] = type;
    }
  }
  const options = Object.fromEntries(Object.entries(all).map(([name, type]) => [name, name === 'help' ? { type, short: 'h' } : { type }]));
  // strict: false, so that parseArgs hands every token over and the checks below word the errors;
  // a valued flag then takes the next word even when it starts with '-' (--seed -3 is checked as
  // a number, not taken for an option).
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const positional = tokens.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  const command = positional[0];
  const allowed: FlagSpec | null = command !== undefined && Object.hasOwn(commands, command) ? { ...common, ...commands[command] } : null;
  const flags = new Map<string, string | true>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const known = allowed ?? all;
    if (!Object.hasOwn(known, t.name)) {
      const what = allowed ? `${command} takes ${names(commands[command]) || 'no options'}` : 'run `inference-lab help` for the options';
      throw new UsageError(`Unknown option ${t.rawName}; ${what}.`);
    }
    if (flags.has(t.name)) throw new UsageError(`--${t.name} is given twice; give it once.`);
    if (known[t.name] === 'string') {
      // `--input --json`: the next word is another flag, so the value is missing.
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new UsageError(`--${t.name} needs a value.`);
      flags.set(t.name, t.value);
    } else {
      if (t.value !== undefined) throw new UsageError(`--${t.name} takes no value; got ${t.rawName}=${t.value}.`);
      flags.set(t.name, true);
    }
  }
  return { positional, flags };
}
