// The layers stay apart: domain code never imports the wire layer or the operation handlers
// (Cognito's types come from src/shapes.ts, which imports nothing). Read from the sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Every relative module a file imports (static, dynamic, re-exports, types too), resolved under src/. */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => path.relative(src, path.resolve(path.dirname(file), m[1])));
}

test('no file under src/domain imports src/wire or src/ops', () => {
  const domain = files(path.join(src, 'domain'));
  assert.ok(domain.length > 20 && imports(path.join(src, 'domain/pool-config.ts')).includes('shapes.js'), 'the import reader finds imports');
  const bad = domain.flatMap((f) => imports(f).filter((i) => i.startsWith('wire/') || i.startsWith('ops/')).map((i) => `${path.relative(src, f)} -> ${i}`));
  assert.deepEqual(bad, []);
});

test('src/shapes.ts (generated) imports nothing', () => {
  assert.deepEqual(imports(path.join(src, 'shapes.ts')), []);
  assert.doesNotMatch(fs.readFileSync(path.join(src, 'shapes.ts'), 'utf8'), /^import /m);
});
