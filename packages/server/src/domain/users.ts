import crypto from 'node:crypto';
import { InvalidParameterException, UserNotFoundException, UsernameExistsException, AliasExistsException, NotAuthorizedException } from '../errors.js';
import { UniqueViolation, type UserRow } from '../storage/repository.js';
import type { Ctx } from './context.js';
import { isAlias, isUsernameAttribute, usernameKey, type LoadedPool } from './pools.js';
import type { UserStatusType, UserType } from '../shapes.js';

export type Attributes = Record<string, string>;
export interface User extends Omit<UserRow, 'attributes' | 'mfa'> { attributes: Attributes; mfa: MfaSettings }
/**
 * A user's MFA settings (users.mfa): the factors they enabled and prefer (SetUserMFAPreference), and
 * their TOTP secret, sealed (domain/totp.ts): the verified one, and one associated but not yet verified.
 */
export interface MfaSettings { preferred?: string; enabled?: string[]; totpSecret?: string; totpName?: string; pendingTotp?: string }

export const standardAttributes = new Set([
  'address', 'birthdate', 'email', 'email_verified', 'family_name', 'gender', 'given_name', 'locale', 'middle_name', 'name',
  'nickname', 'phone_number', 'phone_number_verified', 'picture', 'preferred_username', 'profile', 'updated_at', 'website', 'zoneinfo', 'sub',
]);
// A bare addr-spec: a dot-atom local part and a host name, nothing else. No comments, display
// names, quoted strings or address literals, which mail software reads differently from us: the
// address a code goes to must be exactly the one that becomes verified.
const atom = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const label = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?';
export const emailPattern = new RegExp(`^${atom}(?:\\.${atom})*@(?:${label}\\.)+${label}$`, 'u');
const phonePattern = /^\+[0-9]{4,15}$/;

export function parseUser(row: UserRow): User {
  return { ...row, attributes: JSON.parse(row.attributes), mfa: JSON.parse(row.mfa) };
}

function customDeclared(pool: LoadedPool, name: string) {
  const bare = name.slice('custom:'.length);
  return (pool.config.Schema ?? []).some((s) => s.Name === bare || s.Name === name);
}

/** Whether the pool's schema has the attribute: standard, declared custom, or (for admins) developer-only. */
export function inSchema(pool: LoadedPool, name: string, admin = false) {
  return standardAttributes.has(name) || (name.startsWith('custom:') && customDeclared(pool, name)) || (admin && name.startsWith('dev:'));
}

/** Checks names and formats of attributes a caller wants to write. `sub` is never writable. */
export function validateAttributes(pool: LoadedPool, attrs: { Name: string; Value?: string }[], opts: { admin?: boolean } = {}): Attributes {
  const out: Attributes = {};
  for (const { Name, Value = '' } of attrs) {
    if (Name === 'sub') throw new InvalidParameterException('Cannot modify an already provided sub attribute');
    if (!inSchema(pool, Name, opts.admin)) throw new InvalidParameterException(`Attribute does not exist in the schema: ${Name}`);
    // Checked here, not only at the wire, because imports arrive through CSV: PostgreSQL text cannot
    // hold U+0000, and values that become lookup keys must fit an index entry.
    if (Value.includes('\u0000') || Name.includes('\u0000')) throw new InvalidParameterException(`Invalid character in attribute ${Name.replaceAll('\u0000', '')}`);
    if ((Name === 'email' || Name === 'phone_number' || Name === 'preferred_username') && [...Value].length > (Name === 'email' ? 256 : 128)) {
      throw new InvalidParameterException(`Attribute ${Name} is too long.`);
    }
    if (Name === 'email' && Value && !emailPattern.test(Value)) throw new InvalidParameterException('Invalid email address format.');
    if (Name === 'phone_number' && Value && !phonePattern.test(Value)) throw new InvalidParameterException('Invalid phone number format.');
    if (Name === 'email_verified' || Name === 'phone_number_verified') {
      // Cognito takes booleans in any case ("True") and stores them in lower case.
      const flag = Value.toLowerCase();
      if (flag !== 'true' && flag !== 'false') throw new InvalidParameterException(`Invalid value for ${Name}: must be true or false`);
      out[Name] = flag;
      continue;
    }
    out[Name] = Value;
  }
  return out;
}

export function requiredAttributes(pool: LoadedPool): string[] {
  return (pool.config.Schema ?? []).filter((s) => s.Required).map((s) => s.Name);
}

export function missingRequired(pool: LoadedPool, attrs: Attributes): string[] {
  return requiredAttributes(pool).filter((n) => !attrs[n]);
}

/** The lookup keys a user row carries: its username and whichever attributes the pool lets people sign in with. */
export function loginKeys(pool: LoadedPool, username: string, attrs: Attributes) {
  const verified = (a: string) => attrs[`${a}_verified`] === 'true';
  const email = attrs.email ? attrs.email.toLowerCase() : null;
  const phone = attrs.phone_number || null;
  return {
    username_key: usernameKey(pool, username),
    email_key: email && (isUsernameAttribute(pool, 'email') || (isAlias(pool, 'email') && verified('email'))) ? email : null,
    phone_key: phone && (isUsernameAttribute(pool, 'phone_number') || (isAlias(pool, 'phone_number') && verified('phone_number'))) ? phone : null,
    preferred_username_key: attrs.preferred_username && isAlias(pool, 'preferred_username') ? usernameKey(pool, attrs.preferred_username) : null,
  };
}

export async function findUser(ctx: Ctx, pool: LoadedPool, login: string): Promise<User | undefined> {
  const key = usernameKey(pool, login);
  let row = await ctx.repo.findUserByLogin(pool.id, key);
  if (!row && login.includes('@') && key !== login.toLowerCase()) row = await ctx.repo.findUserByLogin(pool.id, login.toLowerCase());
  return row && parseUser(row);
}

export async function mustFindUser(ctx: Ctx, pool: LoadedPool, login: string): Promise<User> {
  const user = await findUser(ctx, pool, login);
  if (!user) throw new UserNotFoundException('User does not exist.');
  return user;
}

/** For Admin* operations, which take the username (or an alias). */
export const adminFindUser = mustFindUser;

/** Username rules: with UsernameAttributes the sign-up name is an email or phone and the real username is the sub. */
export function newUsername(pool: LoadedPool, requested: string, attrs: Attributes): { username: string; sub: string } {
  const sub = crypto.randomUUID();
  const attrsFor = pool.config.UsernameAttributes ?? [];
  if (attrsFor.length) {
    if (emailPattern.test(requested) && attrsFor.includes('email')) {
      if (attrs.email && attrs.email.toLowerCase() !== requested.toLowerCase()) throw new InvalidParameterException('Email and username must match.');
      attrs.email = requested;
    } else if (phonePattern.test(requested) && attrsFor.includes('phone_number')) {
      attrs.phone_number = requested;
    } else {
      throw new InvalidParameterException(`Username should be ${attrsFor.includes('email') && attrsFor.includes('phone_number') ? 'either an email or a phone number' : attrsFor.includes('email') ? 'an email' : 'a phone number'}.`);
    }
    return { username: sub, sub };
  }
  if (emailPattern.test(requested) && isAlias(pool, 'email')) throw new InvalidParameterException('Username cannot be of email format, since user pool is configured for email alias.');
  if (phonePattern.test(requested) && isAlias(pool, 'phone_number')) throw new InvalidParameterException('Username cannot be of phone number format, since user pool is configured for phone_number alias.');
  return { username: requested, sub };
}

export function uniqueError(e: unknown, pool: LoadedPool): Error {
  if (!(e instanceof UniqueViolation)) return e as Error;
  if (e.index.includes('username')) return new UsernameExistsException('User account already exists');
  const attr = e.index.includes('email') ? 'email' : e.index.includes('phone') ? 'phone_number' : 'preferred_username';
  if (isUsernameAttribute(pool, attr)) return new UsernameExistsException(`An account with the given ${attr} already exists.`);
  return new AliasExistsException('An account with the given email already exists.'.replace('email', attr));
}

export function attributeList(user: User): { Name: string; Value: string }[] {
  return [{ Name: 'sub', Value: user.id }, ...Object.entries(user.attributes).filter(([k]) => k !== 'sub').map(([Name, Value]) => ({ Name, Value }))];
}

/** Cognito's UserType, as the Admin* and List* operations answer. Dates are epoch seconds. */
export function userType(user: User) {
  return {
    Username: user.username,
    Attributes: attributeList(user),
    UserCreateDate: user.created_at / 1000,
    UserLastModifiedDate: user.updated_at / 1000,
    Enabled: user.enabled === 1,
    UserStatus: user.status as UserStatusType,
  } satisfies UserType;
}
