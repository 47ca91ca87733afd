/** `--name value` pairs and bare flags after the command word; nothing clever. */
export interface ParsedArgs {
  command: string | undefined;
  options: Map<string, string>;
  flags: Set<string>;
  /** Options that may be given more than once (`--input NAME=FILE`), in order. */
  lists: Map<string, string[]>;
}

const BARE_FLAGS = new Set(['help', 'json', 'version']);
const REPEATABLE = new Set(['input']);

export class UsageError extends Error {}

export function parseArgs(argv: string[]): ParsedArgs {
  const [command, ...rest] = argv;
  const options = new Map<string, string>();
  const flags = new Set<string>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (BARE_FLAGS.has(name)) {
      flags.add(name);
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : rest[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (REPEATABLE.has(name)) lists.set(name, [...(lists.get(name) ?? []), value]);
    else options.set(name, value);
  }
  return { command, options, flags, lists };
}

export function required(args: ParsedArgs, name: string): string {
  const v = args.options.get(name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/** Reject options the command does not know, so a typo is not silently ignored. */
export function allowOnly(args: ParsedArgs, names: string[]): void {
  for (const k of [...args.options.keys(), ...args.lists.keys()]) {
    if (!names.includes(k)) throw new UsageError(`unknown option --${k} for '${args.command}'`);
  }
}
