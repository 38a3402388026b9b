/**
 * The README's table of which flags each command takes is the commands' own flag lists: a flag
 * added to a command without the README saying so, or a README row naming a flag the command
 * refuses, fails here (the message prints the table as it should read).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { backendsFlags } from '../cli/commands/backends.js';
import { FLAGS_BY_COMMAND } from '../cli/flags.js';
import type { FlagSpec } from '../cli/args.js';

const COMMANDS: Record<string, readonly FlagSpec[]> = { ...FLAGS_BY_COMMAND, backends: backendsFlags };

/** The table: one row per set of commands, the flags taken by exactly those, rows by decreasing number of commands. */
export function flagsByCommandTable(): string {
  const names = Object.keys(COMMANDS);
  const takers = new Map<string, string[]>();
  for (const [command, flags] of Object.entries(COMMANDS)) for (const f of flags) takers.set(f.name, [...(takers.get(f.name) ?? []), command]);
  const rows = new Map<string, string[]>();
  for (const [flag, commands] of takers) rows.set(commands.join(', '), [...(rows.get(commands.join(', ')) ?? []), flag]);
  const ordered = [...rows.entries()].sort((a, b) => b[0].split(', ').length - a[0].split(', ').length);
  return [
    '| commands | flags |',
    '| --- | --- |',
    ...ordered.map(([commands, flags]) => `| ${commands.split(', ').length === names.length ? 'all' : commands} | ${flags.map((f) => `\`--${f}\``).join(' ')} |`),
  ].join('\n');
}

test("the README's flags-by-command table is the commands' flag lists", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const m = /<!-- flags by command[^>]*-->\n([\s\S]*?)\n<!-- end of flags by command -->/.exec(readme);
  assert.ok(m, 'README.md has the flags-by-command table between its markers');
  const expected = flagsByCommandTable();
  assert.equal(m[1]!.trim(), expected, `README.md's table should read:\n${expected}`);
});
