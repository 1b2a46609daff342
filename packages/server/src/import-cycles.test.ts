import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The server's modules import one way (routes → handlers → engine; types from their own modules),
// type imports included: a loop would come back unnoticed otherwise.

const ROOT = dirname(fileURLToPath(import.meta.url));
const IMPORT = /^(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'/gms;

/** Every non-test module and the modules it imports from this package. */
function importGraph(): Map<string, string[]> {
  const files = (readdirSync(ROOT, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('fixtures'))
    .map((f) => join(ROOT, f));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) =>
      resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts')),
    );
    graph.set(
      file,
      targets.filter((t) => known.has(t)),
    );
  }
  return graph;
}

/** The import cycles of `graph`, each as the modules along it. */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push(path.slice(path.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('server modules', () => {
  it('have no import cycles, type imports included', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(50);
    const cycles = cyclesOf(graph).map((c) => c.map((f) => relative(ROOT, f)).join(' → '));
    expect(cycles).toEqual([]);
  });

  it('the check finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesOf(graph)).toEqual([['a', 'b', 'c']]);
  });
});
