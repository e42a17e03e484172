#!/usr/bin/env node
// Refreshes packages/server/model/cognito-idp.json from botocore's service-2.json (a path or a URL),
// keeping only data: every documentation string is dropped. Then regenerates src/shapes.ts.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/refresh-model.mjs <path or URL of botocore cognito-idp service-2.json>');
  process.exit(2);
}
const text = /^https?:\/\//.test(source) ? await (await fetch(source)).text() : fs.readFileSync(source, 'utf8');
const model = JSON.parse(text);
if (model?.metadata?.endpointPrefix !== 'cognito-idp' || typeof model.operations !== 'object' || typeof model.shapes !== 'object') {
  console.error(`${source} is not the cognito-idp service model`);
  process.exit(1);
}
const strip = (v) => {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'documentation' && k !== 'documentationUrl').map(([k, x]) => [k, strip(x)]));
  }
  return v;
};
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../packages/server/model/cognito-idp.json');
fs.writeFileSync(out, JSON.stringify(strip(model)));
console.log(`wrote ${out}: ${Object.keys(model.operations).length} operations, ${Object.keys(model.shapes).length} shapes`);
// The handlers' types follow the model: regenerate them (a test fails while they are stale).
execFileSync(process.execPath, ['--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'shapes.ts')], { stdio: 'inherit' });
