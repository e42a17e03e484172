// The sign-in state machine stays layered: base.ts at the bottom, then the password checks, then one
// module per challenge, then the pipeline, then the registry (index.ts). Read from the sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/domain/signin');

/** Each module of the folder and the modules of the folder it imports (static, dynamic and re-exports, types too). */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.ts'))) {
    const src = fs.readFileSync(path.join(folder, file), 'utf8');
    const deps = [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]\.\/([^'"/]+)\.js['"]/g)].map((m) => `${m[1]}.ts`);
    g.set(file, [...new Set(deps)]);
  }
  return g;
}

function cycle(g: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const walk = (n: string, trail: string[]): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'open') return [...trail.slice(trail.indexOf(n)), n];
    state.set(n, 'open');
    for (const d of g.get(n) ?? []) {
      const c = walk(d, [...trail, n]);
      if (c) return c;
    }
    state.set(n, 'done');
    return undefined;
  };
  for (const n of g.keys()) {
    const c = walk(n, []);
    if (c) return c;
  }
  return undefined;
}

test('sign-in modules: the folder has no import cycle', () => {
  const g = graph();
  assert.ok(g.get('index.ts')?.includes('pipeline.ts'), 'the import reader finds imports (index.ts imports pipeline.ts)');
  assert.deepEqual(cycle(g), undefined);
});

test('sign-in modules: base.ts imports nothing from the folder, password.ts only base.ts', () => {
  const g = graph();
  assert.deepEqual(g.get('base.ts'), []);
  assert.deepEqual(g.get('password.ts'), ['base.ts']);
});

test('sign-in modules: challenge modules import only base.ts and password.ts, never the registry, the pipeline or each other', () => {
  const g = graph();
  const challengeModules = [...g.keys()].filter((f) => !['base.ts', 'password.ts', 'pipeline.ts', 'index.ts'].includes(f));
  assert.ok(challengeModules.includes('password-verifier.ts'));
  for (const f of challengeModules) {
    const bad = g.get(f)!.filter((d) => d !== 'base.ts' && d !== 'password.ts');
    assert.deepEqual(bad, [], `${f} imports ${bad.join(', ')}`);
  }
  for (const [f, deps] of g) {
    if (f !== 'index.ts') assert.ok(!deps.includes('index.ts') && !deps.includes('pipeline.ts'), `${f} imports the registry or the pipeline`);
  }
});
