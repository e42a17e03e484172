// Sweeps every implemented operation with values just past each constraint of its input shape, as
// the model states them, and checks Cognito's answer: a 400 with InvalidParameterException and its
// "N validation error(s) detected" message, or SerializationException for a wrong JSON type; never a 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import sha256js from '@aws-crypto/sha256-js'; // CJS: named exports aren't statically detectable
import '../src/ops/index.js';
import { operations } from '../src/wire/operations.js';
import { cognitoModel, compilePattern, type ModelShape } from '../src/wire/model.js';
import { startGatehouse, ADMIN, type Gatehouse } from './support/harness.js';

const { Sha256 } = sha256js;
const model = cognitoModel();
const implemented = [...operations.keys()].filter((op) => model.has(op)).sort();

let gh: Gatehouse;
before(async () => { gh = await startGatehouse(); });
after(async () => { await gh?.stop(); });

/** A raw request; admin operations are SigV4-signed with the harness's keys. */
async function call(op: string, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const url = new URL(gh.url);
  let headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${op}` };
  if (operations.get(op)!.signed) {
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 'cognito-idp', sha256: Sha256 });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', headers: { ...headers, host: url.host }, body: text });
    headers = signed.headers;
  }
  const res = await fetch(gh.url, { method: 'POST', headers, body: text });
  const json = await res.json() as { __type?: string; message?: string };
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), json };
}

interface Case { op: string; what: string; body: unknown; expect: { serialization: true } | { path: string; rule: string; hidden: boolean } }

const shape = (name: string): ModelShape => model.shape(name).shape;
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const OFF_PATTERN = [' ', '\t', '!', '#', '~', '.', '-', '_', 'é', '\u{1F600}', 'a b', 'a.'];

/** A value of the right JSON type, whatever its constraints say: items for over-long lists. */
function typed(name: string): unknown {
  const s = shape(name);
  switch (s.type) {
    case 'string': return s.enum ? s.enum[0] : 'a';
    case 'integer': case 'long': return s.min ?? 1;
    case 'boolean': return true;
    case 'structure': case 'map': return {};
    case 'list': return [];
    default: return 1;
  }
}

/** Values that break one constraint of a scalar shape, each with the rule Cognito names. */
function badScalars(name: string): { value: unknown; rule?: string; what: string }[] {
  const s = shape(name);
  const out: { value: unknown; rule?: string; what: string }[] = [];
  if (s.type === 'string') {
    out.push({ value: 12345, what: 'a number for a string' });
    if (s.min !== undefined && s.min > 0) out.push({ value: 'a'.repeat(s.min - 1), rule: `Member must have length greater than or equal to ${s.min}`, what: 'too short' });
    if (s.max !== undefined) out.push({ value: 'a'.repeat(s.max + 1), rule: `Member must have length less than or equal to ${s.max}`, what: 'too long' });
    if (s.pattern !== undefined) {
      const re = compilePattern(s.pattern);
      const len = Math.max(1, s.min ?? 0);
      const off = OFF_PATTERN.map((c) => c.repeat(len)).find((v) => !re.test(v) && [...v].length <= (s.max ?? Infinity));
      if (off !== undefined) out.push({ value: off, rule: `Member must satisfy regular expression pattern: ${s.pattern}`, what: 'off-pattern' });
    }
    if (s.enum) out.push({ value: 'NOT_IN_THE_ENUM', rule: `Member must satisfy enum value set: [${s.enum.join(', ')}]`, what: 'outside the enum' });
    out.push({ value: 'a\u0000b', rule: 'Member must not contain the character U+0000', what: 'NUL' });
  } else if (s.type === 'integer' || s.type === 'long') {
    out.push({ value: '1', what: 'a string for a number' });
    if (s.min !== undefined) out.push({ value: s.min - 1, rule: `Member must have value greater than or equal to ${s.min}`, what: 'below the range' });
    if (s.max !== undefined) out.push({ value: s.max + 1, rule: `Member must have value less than or equal to ${s.max}`, what: 'above the range' });
  } else if (s.type === 'boolean') {
    out.push({ value: 'true', what: 'a string for a boolean' });
  } else if (s.type === 'timestamp') {
    out.push({ value: 'yesterday', what: 'a string for a timestamp' });
  }
  return out;
}

/** Every case for a value of shape `name` at `path`; `wrap` builds the request body around it. */
function cases(op: string, name: string, path: string, hidden: boolean, wrap: (v: unknown) => unknown, depth: number, out: Case[]) {
  const s = shape(name);
  const hide = hidden || s.sensitive === true;
  if (s.type === 'structure') {
    if (s.document) return;
    out.push({ op, what: `${path}: a string for a structure`, body: wrap('x'), expect: { serialization: true } });
    if (depth > 4) return;
    for (const r of s.required ?? []) {
      out.push({ op, what: `${path}.${lowerFirst(r)} missing`, body: wrap({}), expect: { path: `${path}.${lowerFirst(r)}`, rule: 'Member must not be null', hidden: hide || shape(s.members![r].shape).sensitive === true } });
    }
    for (const [m, ref] of Object.entries(s.members ?? {})) cases(op, ref.shape, `${path}.${lowerFirst(m)}`, hide, (v) => wrap({ [m]: v }), depth + 1, out);
  } else if (s.type === 'list') {
    out.push({ op, what: `${path}: an object for a list`, body: wrap({}), expect: { serialization: true } });
    if (s.max !== undefined && s.max < 5000) {
      out.push({ op, what: `${path}: too many items`, body: wrap(Array.from({ length: s.max + 1 }, () => typed(s.member!.shape))), expect: { path, rule: `Member must have length less than or equal to ${s.max}`, hidden: hide } });
    }
    if (s.min !== undefined && s.min > 0) out.push({ op, what: `${path}: too few items`, body: wrap([]), expect: { path, rule: `Member must have length greater than or equal to ${s.min}`, hidden: hide } });
    const member = shape(s.member!.shape);
    if (member.type === 'structure') {
      cases(op, s.member!.shape, `${path}.1.member`, hide, (v) => wrap([v]), depth + 1, out);
    } else {
      const rules = model.rules(s.member!.shape);
      for (const bad of badScalars(s.member!.shape)) {
        if (bad.what === 'NUL') continue;
        out.push({ op, what: `${path} item ${bad.what}`, body: wrap([bad.value]), expect: bad.rule ? { path, rule: `Member must satisfy constraint: [${rules.join(', ')}]`, hidden: hide } : { serialization: true } });
      }
    }
  } else if (s.type === 'map') {
    out.push({ op, what: `${path}: a list for a map`, body: wrap([]), expect: { serialization: true } });
    out.push({ op, what: `${path}: a number as a map value`, body: wrap({ k: 1 }), expect: { serialization: true } });
    out.push({ op, what: `${path}: NUL in a map key`, body: wrap({ 'k\u0000': 'v' }), expect: { path, rule: 'Member must not contain the character U+0000', hidden: hide } });
  } else {
    for (const bad of badScalars(name)) {
      out.push({ op, what: `${path} ${bad.what}`, body: wrap(bad.value), expect: bad.rule ? { path, rule: bad.rule, hidden: hide } : { serialization: true } });
    }
  }
}

function allCases(): Case[] {
  const out: Case[] = [];
  for (const op of implemented) {
    const input = model.operation(op)!.input;
    if (!input) continue;
    const s = shape(input.shape);
    for (const r of s.required ?? []) {
      out.push({ op, what: `${r} missing`, body: {}, expect: { path: lowerFirst(r), rule: 'Member must not be null', hidden: shape(s.members![r].shape).sensitive === true } });
    }
    for (const [m, ref] of Object.entries(s.members ?? {})) cases(op, ref.shape, lowerFirst(m), false, (v) => ({ [m]: v }), 1, out);
  }
  return out;
}

test('the sweep covers every implemented operation the model has', () => {
  const missing = [...operations.keys()].filter((op) => !model.has(op));
  assert.deepEqual(missing, [], 'implemented operations absent from the model are not validated');
  assert.ok(implemented.length >= 50, `${implemented.length} operations`);
});

test('values just past each constraint of every implemented operation get Cognito\'s 400, never a 500', async () => {
  const all = allCases();
  assert.ok(all.length > 500, `${all.length} cases`);
  const failures: string[] = [];
  for (const c of all) {
    const r = await call(c.op, c.body);
    const where = `${c.op} ${c.what}`;
    if (r.status !== 400) { failures.push(`${where}: HTTP ${r.status} ${r.type} ${r.json.message}`); continue; }
    if ('serialization' in c.expect) {
      if (r.type !== 'SerializationException' || r.json.__type !== 'SerializationException') failures.push(`${where}: ${r.type} ${r.json.message}`);
      continue;
    }
    const message = r.json.message ?? '';
    const head = /^(\d+) validation errors? detected: /.exec(message);
    const n = head ? Number(head[1]) : 0;
    const { path, rule, hidden } = c.expect;
    const shown = hidden ? `Value at '${path}' failed to satisfy constraint: ${rule}` : `at '${path}' failed to satisfy constraint: ${rule}`;
    if (r.type !== 'InvalidParameterException' || r.json.__type !== 'InvalidParameterException') failures.push(`${where}: ${r.type} ${message}`);
    else if (!head || (n === 1) !== message.startsWith('1 validation error detected: ')) failures.push(`${where}: message shape: ${message}`);
    else if (Math.min(n, 100) !== message.slice(head[0].length).split('; Value ').length) failures.push(`${where}: ${n} errors counted: ${message}`);
    else if (!message.includes(shown)) failures.push(`${where}: expected "${shown}" in: ${message}`);
    else if (!hidden && message.includes(`Value at '${path}'`)) failures.push(`${where}: value hidden but not sensitive: ${message}`);
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${all.length} cases failed`);
  console.log(`swept ${all.length} cases over ${implemented.length} operations`);
});

test('over-deep and over-large bodies get a 400, never a 500 or a stack overflow', async () => {
  let deep = '1';
  for (let i = 0; i < 100_000; i++) deep = `[${deep}]`;
  for (const op of ['SignUp', 'AdminCreateUser', 'CreateUserPool']) {
    const r = await call(op, `{"Unknown":${deep}}`);
    assert.equal(r.status, 400, `${op}: ${r.json.message}`);
    assert.equal(r.type, 'SerializationException');
  }
  // 25,000 attributes without names: one answer, the count exact, the list bounded.
  const many = Array.from({ length: 25_000 }, () => ({}));
  const r = await call('AdminUpdateUserAttributes', { UserPoolId: 'local_abc', Username: 'u', UserAttributes: many });
  assert.equal(r.status, 400);
  assert.equal(r.type, 'InvalidParameterException');
  assert.match(r.json.message!, /^25000 validation errors detected: Value null at 'userAttributes.1.member.name'/);
  assert.ok(r.json.message!.length < 20_000, `${r.json.message!.length} characters`);
});
