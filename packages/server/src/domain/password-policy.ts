// User-pool password policy: validating the pool's config and checking passwords against it.
import { InvalidParameterException, InvalidPasswordException } from '../errors.js';
import type { PasswordPolicyType } from '../shapes.js';

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

/** For CreateUserPool/UpdateUserPool `Policies.PasswordPolicy` (ranges checked by the model): omitted members take the defaults. */
export function passwordPolicyOf(p: PasswordPolicyType | undefined): PasswordPolicy {
  const d = defaultPasswordPolicy;
  const policy: PasswordPolicy = {
    MinimumLength: p?.MinimumLength ?? d.MinimumLength,
    RequireUppercase: p?.RequireUppercase ?? d.RequireUppercase,
    RequireLowercase: p?.RequireLowercase ?? d.RequireLowercase,
    RequireNumbers: p?.RequireNumbers ?? d.RequireNumbers,
    RequireSymbols: p?.RequireSymbols ?? d.RequireSymbols,
    TemporaryPasswordValidityDays: p?.TemporaryPasswordValidityDays ?? d.TemporaryPasswordValidityDays,
  };
  if (p?.PasswordHistorySize !== undefined) policy.PasswordHistorySize = p.PasswordHistorySize;
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
