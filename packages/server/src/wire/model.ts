// Cognito's API model (botocore's service-2.json, see model/README.md) as the one source of what a
// request may carry: required members, JSON types, lengths, patterns, enums, ranges. Compiled once
// at start; checks requests before any handler runs, and (in tests) responses against output shapes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidParameterException, SerializationException } from '../errors.js';

export interface ShapeRef { shape: string }
export interface ModelShape {
  type: string;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  sensitive?: boolean;
  document?: boolean;
  exception?: boolean;
}
export interface ModelOperation { name: string; input?: ShapeRef; output?: ShapeRef; auth?: string[]; authtype?: string }
export interface ServiceModel { metadata: Record<string, unknown>; operations: Record<string, ModelOperation>; shapes: Record<string, ModelShape> }

/** The model file ships with the package: the same relative path from src/wire and dist/wire. */
export const MODEL_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../model/cognito-idp.json');

/** Deeper JSON than any Cognito input shape needs (they nest about 6 levels) is refused before it is walked. */
export const MAX_JSON_DEPTH = 64;

type Json = unknown;
interface Violation { path: string; value: Json; hidden: boolean; rule: string }

/**
 * The model's patterns are Java regular expressions, matched against the whole value. JavaScript
 * needs the `u` flag for \p{...} classes, and has no inline (?s) flag: it becomes the `s` flag.
 */
export function compilePattern(pattern: string): RegExp {
  let source = pattern;
  let flags = 'u';
  if (source.startsWith('(?s)')) {
    source = source.slice(4);
    flags += 's';
  }
  return new RegExp(`^(?:${source})$`, flags);
}

/** Length as AWS counts it: in characters (code points), not UTF-16 units. */
function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Values in messages as the Java service prints them: lists as [a, b], maps as {k=v}. */
function show(v: Json): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as object).map(([k, x]) => `${k}=${show(x)}`).join(', ')}}`;
  return String(v).replace(/\u0000/g, '\\u0000');
}

function lowerFirst(s: string) { return s.charAt(0).toLowerCase() + s.slice(1); }

function token(v: Json): string {
  if (typeof v === 'string') return 'STRING_VALUE';
  if (typeof v === 'number') return 'NUMBER_VALUE';
  if (v === true) return 'TRUE_VALUE';
  if (v === false) return 'FALSE_VALUE';
  return 'NULL_VALUE';
}

const TARGET_NAMES: Record<string, string> = {
  string: 'an String', blob: 'a ByteBuffer', integer: 'an Integer', long: 'a Long', double: 'a Double', float: 'a Float',
  boolean: 'a Boolean', timestamp: 'a Date', structure: 'a Structure', list: 'a List', map: 'a Map',
};

/** SerializationException texts as the AWS JSON 1.1 deserializer words them. */
function wrongType(v: Json, type: string): never {
  if (Array.isArray(v)) throw new SerializationException('Start of list found where not expected.');
  if (v !== null && typeof v === 'object') throw new SerializationException('Start of structure or map found where not expected.');
  if (type === 'string' && typeof v === 'number') throw new SerializationException('class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String');
  if (type === 'string' && typeof v === 'boolean') throw new SerializationException('class java.lang.Boolean can not be converted to an String');
  throw new SerializationException(`${token(v)} can not be converted to ${TARGET_NAMES[type] ?? `a ${type}`}`);
}

/** Refuses JSON nested deeper than `max`, walking iteratively so no input can exhaust the stack. */
export function checkDepth(root: Json, max = MAX_JSON_DEPTH) {
  const stack: [Json, number][] = [[root, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) throw new SerializationException(`Request body is nested deeper than ${max} levels`);
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
}

interface Compiled { name: string; shape: ModelShape; regex?: RegExp; enumSet?: Set<string> }

export class CompiledModel {
  private readonly shapes = new Map<string, Compiled>();
  private readonly holdsSensitive = new Map<string, boolean>();

  constructor(readonly model: ServiceModel) {
    for (const [name, shape] of Object.entries(model.shapes)) {
      this.shapes.set(name, {
        name, shape,
        regex: shape.pattern !== undefined ? compilePattern(shape.pattern) : undefined,
        enumSet: shape.enum ? new Set(shape.enum) : undefined,
      });
    }
  }

  /** Whether a value of this shape may carry a sensitive value anywhere inside it. */
  private containsSensitive(name: string, seen = new Set<string>()): boolean {
    const known = this.holdsSensitive.get(name);
    if (known !== undefined) return known;
    const s = this.shape(name).shape;
    if (s.sensitive) return true;
    if (seen.has(name)) return false;
    seen.add(name);
    const kids = [...Object.values(s.members ?? {}), s.member, s.key, s.value].filter((r): r is ShapeRef => !!r);
    const holds = kids.some((r) => this.containsSensitive(r.shape, seen));
    this.holdsSensitive.set(name, holds);
    return holds;
  }

  static load(file = MODEL_FILE): CompiledModel {
    return new CompiledModel(JSON.parse(fs.readFileSync(file, 'utf8')) as ServiceModel);
  }

  has(operation: string) { return Object.hasOwn(this.model.operations, operation); }
  operation(name: string): ModelOperation | undefined { return Object.hasOwn(this.model.operations, name) ? this.model.operations[name] : undefined; }
  shape(name: string): Compiled {
    const c = this.shapes.get(name);
    if (!c) throw new Error(`model has no shape ${name}`);
    return c;
  }

  /** The constraints a shape states, worded as Cognito words them, in the order its messages list them. */
  rules(name: string): string[] {
    const s = this.shape(name).shape;
    const out: string[] = [];
    const noun = s.type === 'integer' || s.type === 'long' || s.type === 'double' || s.type === 'float' ? 'value' : 'length';
    if (s.max !== undefined) out.push(`Member must have ${noun} less than or equal to ${s.max}`);
    if (s.min !== undefined) out.push(`Member must have ${noun} greater than or equal to ${s.min}`);
    if (s.pattern !== undefined) out.push(`Member must satisfy regular expression pattern: ${s.pattern}`);
    if (s.enum) out.push(`Member must satisfy enum value set: [${s.enum.join(', ')}]`);
    return out;
  }

  /**
   * Checks one request body against the operation's input shape. A wrong JSON type throws
   * SerializationException at once (the body cannot be read); constraint violations are gathered
   * and thrown together as one InvalidParameterException, as Cognito answers them.
   */
  validateInput(operation: string, body: Json) {
    const op = this.operation(operation);
    if (!op?.input) return;
    checkDepth(body);
    const out: Violation[] = [];
    this.walk(op.input.shape, body, '', false, out);
    if (out.length) throw new InvalidParameterException(validationMessage(out));
  }

  /**
   * The request as its handler takes it (typed by src/shapes.ts): validated as validateInput does,
   * then copied with only the members the model has and no nulls (Cognito reads null as absent).
   */
  readInput(operation: string, body: Json): Json {
    this.validateInput(operation, body);
    const op = this.operation(operation);
    return op?.input ? this.clean(op.input.shape, body) : {};
  }

  private clean(shapeName: string, v: Json): Json {
    const { shape } = this.shape(shapeName);
    if (shape.type === 'structure' && !shape.document) {
      const obj = v as Record<string, Json>;
      const out: Record<string, Json> = {};
      for (const [member, ref] of Object.entries(shape.members ?? {})) {
        const x = Object.hasOwn(obj, member) ? obj[member] : undefined;
        if (x !== undefined && x !== null) out[member] = this.clean(ref.shape, x);
      }
      return out;
    }
    if (shape.type === 'list') return (v as Json[]).map((x) => this.clean(shape.member!.shape, x));
    if (shape.type === 'map') {
      // fromEntries defines own properties, so a key such as __proto__ stays a key.
      return Object.fromEntries(Object.entries(v as Record<string, Json>).filter(([, x]) => x !== null).map(([k, x]) => [k, this.clean(shape.value!.shape, x)]));
    }
    return v;
  }

  private walk(shapeName: string, v: Json, at: string, hiddenAbove: boolean, out: Violation[]) {
    const { shape, regex, enumSet } = this.shape(shapeName);
    const hidden = hiddenAbove || shape.sensitive === true;
    // A list or map is shown whole in its own violations: hide it if anything inside may be sensitive.
    const fail = (rule: string) => out.push({ path: at, value: v, hidden: hidden || this.containsSensitive(shapeName), rule });
    switch (shape.type) {
      case 'structure': {
        if (shape.document) return;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) wrongType(v, 'structure');
        const obj = v as Record<string, Json>;
        const required = new Set(shape.required ?? []);
        for (const [member, ref] of Object.entries(shape.members ?? {})) {
          const path = at ? `${at}.${lowerFirst(member)}` : lowerFirst(member);
          const x = Object.hasOwn(obj, member) ? obj[member] : undefined;
          if (x === undefined || x === null) {
            if (required.has(member)) out.push({ path, value: null, hidden: hidden || this.shape(ref.shape).shape.sensitive === true, rule: 'Member must not be null' });
            continue;
          }
          this.walk(ref.shape, x, path, hidden, out);
        }
        return;
      }
      case 'list': {
        if (!Array.isArray(v)) wrongType(v, 'list');
        const items = v as Json[];
        this.size(shape, items.length, fail);
        const member = this.shape(shape.member!.shape);
        if (member.shape.type === 'structure' || member.shape.type === 'list' || member.shape.type === 'map') {
          items.forEach((x, i) => {
            const path = `${at}.${i + 1}.member`;
            if (x === null) out.push({ path, value: null, hidden, rule: 'Member must not be null' });
            else this.walk(member.name, x, path, hidden, out);
          });
        } else if (!this.scalarsValid(member.name, items)) {
          fail(`Member must satisfy constraint: [${this.rules(member.name).join(', ')}]`);
        }
        this.nul(items, at, hidden, out);
        return;
      }
      case 'map': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) wrongType(v, 'map');
        const obj = v as Record<string, Json>;
        const keys = Object.keys(obj);
        this.size(shape, keys.length, fail);
        if (!this.scalarsValid(shape.key!.shape, keys)) fail(`Map keys must satisfy constraint: [${this.rules(shape.key!.shape).join(', ')}]`);
        const value = this.shape(shape.value!.shape);
        if (value.shape.type === 'structure' || value.shape.type === 'list' || value.shape.type === 'map') {
          for (const k of keys) if (obj[k] !== null) this.walk(value.name, obj[k], `${at}.${k}`, hidden, out);
        } else if (!this.scalarsValid(value.name, Object.values(obj))) {
          fail(`Map value must satisfy constraint: [${this.rules(value.name).join(', ')}]`);
        }
        this.nul([...keys, ...Object.values(obj)], at, hidden, out);
        return;
      }
      case 'string': {
        if (typeof v !== 'string') wrongType(v, 'string');
        const s = v as string;
        if (s.includes('\u0000')) fail('Member must not contain the character U+0000');
        const len = charLength(s);
        if (shape.min !== undefined && len < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`);
        if (shape.max !== undefined && len > shape.max) fail(`Member must have length less than or equal to ${shape.max}`);
        if (regex && !regex.test(s)) fail(`Member must satisfy regular expression pattern: ${shape.pattern}`);
        if (enumSet && !enumSet.has(s)) fail(`Member must satisfy enum value set: [${shape.enum!.join(', ')}]`);
        return;
      }
      case 'integer': case 'long': case 'double': case 'float': {
        if (typeof v !== 'number' || !Number.isFinite(v)) wrongType(v, shape.type);
        const n = v as number;
        if ((shape.type === 'integer' && !(Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31)) || (shape.type === 'long' && !Number.isSafeInteger(n))) {
          throw new SerializationException(`NUMBER_VALUE can not be converted to ${TARGET_NAMES[shape.type]}`);
        }
        if (shape.min !== undefined && n < shape.min) fail(`Member must have value greater than or equal to ${shape.min}`);
        if (shape.max !== undefined && n > shape.max) fail(`Member must have value less than or equal to ${shape.max}`);
        return;
      }
      case 'boolean':
        if (typeof v !== 'boolean') wrongType(v, 'boolean');
        return;
      case 'timestamp':
        // AWS JSON 1.1 sends timestamps as epoch seconds.
        if (typeof v !== 'number' || !Number.isFinite(v)) wrongType(v, 'timestamp');
        return;
      case 'blob': {
        if (typeof v !== 'string') wrongType(v, 'blob');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v as string)) throw new SerializationException('Base64 encoded value is not valid');
        const bytes = Buffer.byteLength(v as string, 'base64');
        if (shape.min !== undefined && bytes < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`);
        if (shape.max !== undefined && bytes > shape.max) fail(`Member must have length less than or equal to ${shape.max}`);
        return;
      }
      default:
        return;
    }
  }

  private size(shape: ModelShape, n: number, fail: (rule: string) => void) {
    if (shape.min !== undefined && n < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`);
    if (shape.max !== undefined && n > shape.max) fail(`Member must have length less than or equal to ${shape.max}`);
  }

  /** Items of a list or map of scalars: types are checked (they may throw); true when all meet the constraints. */
  private scalarsValid(shapeName: string, items: Json[]): boolean {
    let ok = true;
    for (const x of items) {
      if (x === null) { ok = false; continue; }
      const scratch: Violation[] = [];
      this.walk(shapeName, x, '', false, scratch);
      if (scratch.some((s) => !s.rule.includes('U+0000'))) ok = false;
    }
    return ok;
  }

  /** NUL in list items, map keys or map values is refused as in any other string (PostgreSQL text cannot hold it). */
  private nul(items: Json[], at: string, hidden: boolean, out: Violation[]) {
    const bad = items.find((x) => typeof x === 'string' && x.includes('\u0000'));
    if (bad !== undefined) out.push({ path: at, value: bad, hidden, rule: 'Member must not contain the character U+0000' });
  }

  /**
   * Differences between an answer and the operation's output shape: wrong types, missing required
   * members, members the model does not have, values outside an enum. Empty when the answer fits.
   */
  checkOutput(operation: string, body: Json): string[] {
    const op = this.operation(operation);
    if (!op) return [];
    const out: string[] = [];
    if (!op.output) {
      if (body && typeof body === 'object' && Object.keys(body).length) out.push(`${operation} has no output shape but answered members ${Object.keys(body).join(', ')}`);
      return out;
    }
    this.drift(op.output.shape, body, operation, out);
    return out;
  }

  private drift(shapeName: string, v: Json, at: string, out: string[]) {
    const { shape, enumSet } = this.shape(shapeName);
    const bad = (what: string) => out.push(`${at}: ${what}`);
    if (v === null || v === undefined) return bad(`null where ${shape.type} ${shapeName} expected`);
    switch (shape.type) {
      case 'structure': {
        if (shape.document) return;
        if (typeof v !== 'object' || Array.isArray(v)) return bad(`expected structure ${shapeName}, got ${Array.isArray(v) ? 'list' : typeof v}`);
        const obj = v as Record<string, Json>;
        const members = shape.members ?? {};
        for (const k of Object.keys(obj)) if (!Object.hasOwn(members, k)) bad(`member ${k} is not in ${shapeName}`);
        for (const r of shape.required ?? []) if (obj[r] === undefined) bad(`required member ${r} of ${shapeName} is missing`);
        for (const [k, ref] of Object.entries(members)) if (obj[k] !== undefined) this.drift(ref.shape, obj[k], `${at}.${k}`, out);
        return;
      }
      case 'list':
        if (!Array.isArray(v)) return bad(`expected list ${shapeName}`);
        v.forEach((x, i) => this.drift(shape.member!.shape, x, `${at}[${i}]`, out));
        return;
      case 'map':
        if (typeof v !== 'object' || Array.isArray(v)) return bad(`expected map ${shapeName}`);
        for (const [k, x] of Object.entries(v as object)) this.drift(shape.value!.shape, x, `${at}.${k}`, out);
        return;
      case 'string': case 'blob':
        if (typeof v !== 'string') return bad(`expected string ${shapeName}, got ${typeof v}`);
        if (enumSet && !enumSet.has(v)) bad(`a value outside enum ${shapeName}`);
        return;
      case 'integer': case 'long':
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(`expected integer ${shapeName}, got ${typeof v === 'number' ? v : typeof v}`);
        return;
      case 'double': case 'float': case 'timestamp':
        if (typeof v !== 'number') bad(`expected number (${shape.type}) ${shapeName}, got ${typeof v}`);
        return;
      case 'boolean':
        if (typeof v !== 'boolean') bad(`expected boolean ${shapeName}, got ${typeof v}`);
        return;
    }
  }
}

/** A 512 KiB body of empty list items would otherwise answer megabytes: the count stays exact, the list stops here. */
const MAX_LISTED_VIOLATIONS = 100;

/** "1 validation error detected: Value 'x' at 'a.b' failed to satisfy constraint: …; …"; sensitive values are left out. */
function validationMessage(vs: Violation[]): string {
  const head = vs.length === 1 ? '1 validation error detected' : `${vs.length} validation errors detected`;
  const parts = vs.slice(0, MAX_LISTED_VIOLATIONS).map((x) => `Value ${x.hidden ? '' : x.value === null ? 'null ' : `'${show(x.value)}' `}at '${x.path}' failed to satisfy constraint: ${x.rule}`);
  return `${head}: ${parts.join('; ')}`;
}

/** A request body: a JSON object (an empty body is `{}`), else SerializationException. */
export function parseBody(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw new SerializationException('Request body is not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SerializationException('Request body must be a JSON object');
  return v as Record<string, unknown>;
}

/**
 * Where Gatehouse takes more than Cognito's model: a LambdaConfig trigger may name an http(s) URL or
 * a module under GATEHOUSE_TRIGGERS_DIR as well as a Lambda ARN, so those members are plain
 * strings here; domain/triggers/runtime.ts says which values are callable and refuses the rest.
 */
export function withGatehouseExtensions(model: ServiceModel): ServiceModel {
  const shapes: Record<string, ModelShape> = { ...model.shapes, GatehouseTriggerTargetType: { type: 'string', min: 1, max: 2048 } };
  for (const name of ['LambdaConfigType', 'PreTokenGenerationVersionConfigType', 'CustomSMSLambdaVersionConfigType', 'CustomEmailLambdaVersionConfigType', 'InboundFederationLambdaType']) {
    const s = shapes[name];
    if (!s?.members) continue;
    const members = Object.fromEntries(Object.entries(s.members).map(([k, ref]) =>
      [k, ref.shape === 'ArnType' && k !== 'KMSKeyID' ? { shape: 'GatehouseTriggerTargetType' } : ref]));
    shapes[name] = { ...s, members };
  }
  return { ...model, shapes };
}

let loaded: CompiledModel | undefined;
/** The project's model (with Gatehouse's extensions), compiled on first use (the server calls it at start). */
export function cognitoModel(): CompiledModel {
  return (loaded ??= new CompiledModel(withGatehouseExtensions(CompiledModel.load().model)));
}
