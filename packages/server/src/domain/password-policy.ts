// User-pool password policy: validating the pool's config and checking passwords against it.
import { InvalidParameterException, InvalidPasswordException } from '../errors.js';

export interface PasswordPolicy {
  MinimumLength: number;
  RequireUppercase: boolean;
  RequireLowercase: boolean;
  RequireNumbers: boolean;
  RequireSymbols: boolean;
  PasswordHistorySize?: number;
  TemporaryPasswordValidityDays: number;
}

export const defaultPasswordPolicy: PasswordPolicy = Object.freeze({
  MinimumLength: 8,
  RequireUppercase: true,
  RequireLowercase: true,
  RequireNumbers: true,
  RequireSymbols: true,
  TemporaryPasswordValidityDays: 7,
});

const where = (field: string) => `policies.passwordPolicy.${field[0].toLowerCase()}${field.slice(1)}`;

function int(p: Record<string, unknown>, field: keyof PasswordPolicy, min: number, max: number): number | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new InvalidParameterException(`Invalid value for PasswordPolicy.${field}: expected an integer.`);
  if (v < min || v > max) {
    const c = v < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`;
    throw new InvalidParameterException(`1 validation error detected: Value '${v}' at '${where(field)}' failed to satisfy constraint: Member must have value ${c}`);
  }
  return v;
}

function bool(p: Record<string, unknown>, field: keyof PasswordPolicy): boolean | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new InvalidParameterException(`Invalid value for PasswordPolicy.${field}: expected a boolean.`);
  return v;
}

/** For CreateUserPool/UpdateUserPool `Policies.PasswordPolicy`. Omitted members take the defaults. */
export function validatePasswordPolicyConfig(p: unknown): PasswordPolicy {
  if (p === undefined || p === null) return { ...defaultPasswordPolicy };
  if (typeof p !== 'object' || Array.isArray(p)) throw new InvalidParameterException('Invalid value for PasswordPolicy: expected an object.');
  const o = p as Record<string, unknown>;
  const d = defaultPasswordPolicy;
  const policy: PasswordPolicy = {
    MinimumLength: int(o, 'MinimumLength', 6, 99) ?? d.MinimumLength,
    RequireUppercase: bool(o, 'RequireUppercase') ?? d.RequireUppercase,
    RequireLowercase: bool(o, 'RequireLowercase') ?? d.RequireLowercase,
    RequireNumbers: bool(o, 'RequireNumbers') ?? d.RequireNumbers,
    RequireSymbols: bool(o, 'RequireSymbols') ?? d.RequireSymbols,
    TemporaryPasswordValidityDays: int(o, 'TemporaryPasswordValidityDays', 0, 365) ?? d.TemporaryPasswordValidityDays,
  };
  const history = int(o, 'PasswordHistorySize', 0, 24);
  if (history !== undefined) policy.PasswordHistorySize = history;
  return policy;
}

// Cognito's API model constrains every password member to max 256 and `^[\S]+.*[\S]+$`, checked
// (as InvalidParameterException) before the pool policy. Translated from Java regex semantics:
// \S is only ASCII whitespace, `.` excludes Java's line terminators.
const S = '[^ \\t\\n\\x0B\\f\\r]';
const PATTERN = new RegExp(`^${S}+[^\\n\\r\\u0085\\u2028\\u2029]*${S}+$`, 'u');
// Cognito's symbol set; space counts too (it can't be leading/trailing after PATTERN).
const SYMBOL = /[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/;

/**
 * Throws InvalidParameterException for model violations (over 256 code points, leading/trailing
 * whitespace — Cognito's own wording) and InvalidPasswordException for policy violations.
 * `field` names the request member in the former's message (e.g. 'proposedPassword').
 */
export function checkPassword(password: string, policy: PasswordPolicy, field = 'password'): void {
  const length = [...password].length;
  const model: string[] = [];
  if (length > 256) model.push(`Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to 256`);
  if (!PATTERN.test(password)) model.push(`Value at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\S]+.*[\\S]+$`);
  if (model.length)
    throw new InvalidParameterException(`${model.length} validation error${model.length > 1 ? 's' : ''} detected: ${model.join('; ')}`);

  const fail = (why: string): never => {
    throw new InvalidPasswordException(`Password did not conform with policy: ${why}`);
  };
  if (length < policy.MinimumLength) fail('Password not long enough');
  if (policy.RequireUppercase && !/[A-Z]/.test(password)) fail('Password must have uppercase characters');
  if (policy.RequireLowercase && !/[a-z]/.test(password)) fail('Password must have lowercase characters');
  if (policy.RequireNumbers && !/[0-9]/.test(password)) fail('Password must have numeric characters');
  if (policy.RequireSymbols && !SYMBOL.test(password)) fail('Password must have symbol characters');
}
