import { InvalidParameterException, SerializationException } from '../errors.js';

type Json = Record<string, unknown>;
interface StrOpts { min?: number; max?: number; pattern?: RegExp; oneOf?: readonly string[] }

function constraint(field: string, value: unknown, rule: string): never {
  const shown = value === undefined ? 'null' : typeof value === 'string' && value.length > 64 ? `'${value.slice(0, 64)}…'` : `'${String(value)}'`;
  throw new InvalidParameterException(`1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${rule}`);
}

// PostgreSQL text cannot hold U+0000 (SQLite can): refuse it in every string on both, so the two
// stores behave alike and such a value never reaches a query as an internal error.
function noNul(field: string, v: string) {
  if (v.includes('\u0000')) constraint(field, v.replace(/\u0000/g, '\\u0000'), 'Member must not contain the character U+0000');
}

/** Typed, validated reads of one request body; wrong JSON types are SerializationExceptions as in AWS JSON. */
export class Input {
  constructor(readonly raw: Json) {}

  static parse(body: Buffer): Input {
    let v: unknown;
    try {
      v = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      throw new SerializationException('Request body is not valid JSON');
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SerializationException('Request body must be a JSON object');
    return new Input(v as Json);
  }

  has(name: string) { return this.raw[name] !== undefined && this.raw[name] !== null; }

  optStr(name: string, o: StrOpts = {}): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new SerializationException(`Expected a string for ${name}`);
    noNul(name, v);
    const len = [...v].length;
    if (o.min !== undefined && len < o.min) constraint(name, v, `Member must have length greater than or equal to ${o.min}`);
    if (o.max !== undefined && len > o.max) constraint(name, v, `Member must have length less than or equal to ${o.max}`);
    if (o.pattern && !o.pattern.test(v)) constraint(name, v, `Member must satisfy regular expression pattern: ${o.pattern.source}`);
    if (o.oneOf && !o.oneOf.includes(v)) constraint(name, v, `Member must satisfy enum value set: [${o.oneOf.join(', ')}]`);
    return v;
  }
  str(name: string, o: StrOpts = {}): string {
    const v = this.optStr(name, { min: 1, ...o });
    if (v === undefined) constraint(name, undefined, 'Member must not be null');
    return v;
  }
  optBool(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new SerializationException(`Expected a boolean for ${name}`);
    return v;
  }
  optInt(name: string, min: number, max: number): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new SerializationException(`Expected an integer for ${name}`);
    if (v < min) constraint(name, v, `Member must have value greater than or equal to ${min}`);
    if (v > max) constraint(name, v, `Member must have value less than or equal to ${max}`);
    return v;
  }
  optObj(name: string): Input | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw new SerializationException(`Expected an object for ${name}`);
    return new Input(v as Json);
  }
  optStrList(name: string, o: StrOpts & { maxItems?: number } = {}): string[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new SerializationException(`Expected a list for ${name}`);
    if (o.maxItems !== undefined && v.length > o.maxItems) constraint(name, `[${v.length} items]`, `Member must have length less than or equal to ${o.maxItems}`);
    return v.map((item, i) => new Input({ [`${name}.${i + 1}`]: item }).str(`${name}.${i + 1}`, o));
  }
  /** A string-to-string map such as AuthParameters or ClientMetadata. */
  optMap(name: string): Record<string, string> | undefined {
    const o = this.optObj(name);
    if (!o) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.raw)) {
      if (typeof v !== 'string') throw new SerializationException(`Expected string values in ${name}`);
      if (v.length > 131072) constraint(`${name}.${k}`, v, 'Member must have length less than or equal to 131072');
      noNul(`${name}.${k}`, k);
      noNul(`${name}.${k}`, v);
      out[k] = v;
    }
    return out;
  }
  /** A list of {Name, Value} as Cognito's AttributeType. */
  optAttributes(name: string, requireValue = true): { Name: string; Value?: string }[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new SerializationException(`Expected a list for ${name}`);
    if (v.length > 100) constraint(name, `[${v.length} items]`, 'Member must have length less than or equal to 100');
    return v.map((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw new SerializationException(`Expected an object in ${name}`);
      const a = new Input(item as Json);
      const Name = a.str('Name', { max: 32, pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u });
      const Value = requireValue ? a.optStr('Value', { max: 2048 }) ?? '' : a.optStr('Value', { max: 2048 });
      void i;
      return { Name, Value };
    });
  }
}
