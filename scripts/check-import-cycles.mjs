// Fails when imports form a loop: between files of one package, or between packages
// (`@bucketdb/<name>` imports, tests included). Type-only imports count: a loop of types is still
// a tangle. Run by `npm run lint`. See docs/architecture.md ("One-way dependencies").
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');

/**
 * Loops that exist today and are owned elsewhere, each written as the sorted members of the loop.
 * A loop passes only while it stays inside one of these (so a loop may shrink, not grow). Remove
 * an entry as soon as its loop is gone; an entry that matches nothing is reported, so it cannot
 * outlive its loop.
 */
const KNOWN_LOOPS = [];

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^;'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Strongly connected components with more than one member, or a member importing itself. */
function loops(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const found = [];
  const visit = (v) => {
    state.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!state.has(w)) {
        visit(w);
        state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
      } else if (state.get(w).onStack) {
        state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
      }
    }
    if (state.get(v).low === state.get(v).index) {
      const members = [];
      let w;
      do {
        w = stack.pop();
        state.get(w).onStack = false;
        members.push(w);
      } while (w !== v);
      if (members.length > 1 || graph.get(v)?.has(v)) found.push(members.sort());
    }
  };
  for (const v of graph.keys()) if (!state.has(v)) visit(v);
  return found;
}

const packageGraph = new Map();
const problems = [];
const used = new Set();
for (const pkg of readdirSync(packagesDir)) {
  const src = join(packagesDir, pkg, 'src');
  if (!existsSync(src)) continue;
  packageGraph.set(pkg, packageGraph.get(pkg) ?? new Set());
  const fileGraph = new Map();
  for (const file of sourceFiles(src)) {
    const edges = new Set();
    fileGraph.set(file, edges);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.')) {
        const target = resolveRelative(file, spec);
        if (target) edges.add(target);
      } else if (spec.startsWith('@bucketdb/')) {
        const other = spec.split('/')[1];
        if (other !== pkg) packageGraph.get(pkg).add(other);
      }
    }
  }
  for (const loop of loops(fileGraph)) {
    const names = loop.map((f) => relative(join(packagesDir, pkg), f));
    const known = KNOWN_LOOPS.findIndex(
      (k) => k.kind === 'files' && k.package === pkg && names.every((n) => n.startsWith(k.under)),
    );
    if (known >= 0) {
      used.add(known);
      console.warn(`known import loop in ${pkg} (${names.length} files), to be removed: ${names.join(' -> ')}`);
    } else problems.push(`import loop in packages/${pkg}: ${names.join(', ')}`);
  }
}
for (const loop of loops(packageGraph)) {
  const known = KNOWN_LOOPS.findIndex((k) => k.kind === 'packages' && loop.every((p) => k.members.includes(p)));
  if (known >= 0) {
    used.add(known);
    console.warn(`known package loop, to be removed: ${loop.join(' <-> ')}`);
  } else problems.push(`packages import each other in a loop: ${loop.join(', ')}`);
}
KNOWN_LOOPS.forEach((k, i) => {
  if (!used.has(i)) problems.push(`KNOWN_LOOPS entry ${JSON.stringify(k)} matches no loop any more: delete it`);
});
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log('no import loops outside the known ones');
