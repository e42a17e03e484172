// docs/operations.md is generated; a change to the operations, the model, the SDK or the tests must regenerate it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { renderOperations, OPERATIONS_DOC } from '../../../scripts/operations-doc.js';

test('docs/operations.md is up to date (run npm run docs:operations)', () => {
  const committed = fs.readFileSync(OPERATIONS_DOC, 'utf8');
  assert.ok(committed === renderOperations(), 'docs/operations.md is out of date: run `npm run docs:operations` and commit it');
});

test('the table counts the implemented model operations and lists each one', () => {
  const doc = renderOperations();
  const count = Number(/Gatehouse implements (\d+) of the 129 operations/.exec(doc)?.[1]);
  assert.equal(doc.split('\n').filter((l) => / \| (SigV4|unsigned) \| yes \| /.test(l)).length, count);
  assert.match(doc, /^\| InitiateAuth \| unsigned \| yes \| .*`amplify-signin\.test\.ts`/m);
  assert.match(doc, /^\| AdminListUserAuthEvents \| SigV4 \| yes \| .*`auth-events\.test\.ts`/m);
  const readme = fs.readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes(`Gatehouse implements ${count} of the 129 operations`), 'the README states the same count');
  assert.match(doc, /^\| TagResource \| SigV4 \| no \|/m);
});
