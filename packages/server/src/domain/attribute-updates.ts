// How user attributes change after an account exists: who may write what, when an email or phone
// stops being verified, and changes held until verified (AttributesRequireVerificationBeforeUpdate).
import type { Updateable } from 'kysely';
import { InvalidParameterException, NotAuthorizedException } from '../errors.js';
import type { UserTable } from '../storage/schema.js';
import type { Ctx } from './context.js';
import type { LoadedClient, LoadedPool } from './pools.js';
import { inSchema, loginKeys, requiredAttributes, uniqueError, type Attributes, type User } from './users.js';
import { CODE_TTL, issueCode } from './codes.js';
import { composeMessage, type MessageContext, type Strings } from './triggers/events.js';

export type Verifiable = 'email' | 'phone_number';
const verifiable: Verifiable[] = ['email', 'phone_number'];

/** Values awaiting verification, by attribute. */
export function pendingOf(user: User): Partial<Record<Verifiable, string>> {
  return user.pending_attributes ? JSON.parse(user.pending_attributes) : {};
}

function schemaEntry(pool: LoadedPool, name: string) {
  const schema = pool.config.Schema ?? [];
  return schema.find((s) => s.Name === name) ?? (name.startsWith('custom:') ? schema.find((s) => s.Name === name.slice('custom:'.length)) : undefined);
}

export function isImmutable(pool: LoadedPool, name: string) {
  return schemaEntry(pool, name)?.Mutable === false;
}

const unauthorized = () => new NotAuthorizedException('A client attempted to write unauthorized attribute');
const cannotUpdate = (name: string) => new InvalidParameterException(`user.${name}: Attribute cannot be updated.`);

/**
 * What a user may write through an app client: never `*_verified` (only admins vouch for an
 * address), only the client's WriteAttributes when it names any, and no immutable attribute,
 * except (`firstValue`, the new-password step of an invited user) one that has no value yet.
 * Sending an immutable attribute's current value back changes nothing and is allowed.
 */
export function checkUserWrites(pool: LoadedPool, client: LoadedClient, user: User, changes: { Name: string; Value?: string }[], opts: { firstValue?: boolean } = {}) {
  checkClientMayWrite(client, changes.map((c) => c.Name));
  for (const { Name, Value = '' } of changes) {
    if (isImmutable(pool, Name) && user.attributes[Name] !== Value && !(opts.firstValue && user.attributes[Name] === undefined)) throw cannotUpdate(Name);
  }
}

/** The attributes an app client may write or delete: never `*_verified`; its WriteAttributes when it names any. */
export function checkClientMayWrite(client: LoadedClient, names: string[]) {
  const writable = client.config.WriteAttributes;
  for (const n of names) {
    if (n === 'email_verified' || n === 'phone_number_verified') throw unauthorized();
    if (writable?.length && !writable.includes(n)) throw unauthorized();
  }
}

/** Admins may give an immutable attribute its first value, never change it. */
export function checkAdminWrites(pool: LoadedPool, user: User, changes: Attributes) {
  for (const [name, value] of Object.entries(changes)) {
    if (isImmutable(pool, name) && user.attributes[name] !== undefined && user.attributes[name] !== value) throw cannotUpdate(name);
  }
}

/** DeleteUserAttributes and AdminDeleteUserAttributes: names must be in the schema; required and immutable attributes stay. */
export function deleteAttributes(pool: LoadedPool, user: User, names: string[], admin: boolean): { attributes: Attributes; pending: Partial<Record<Verifiable, string>> } {
  const unknown = names.filter((n) => !inSchema(pool, n, admin));
  if (unknown.length) throw new InvalidParameterException(`Invalid user attributes: ${unknown.map((n) => `user.${n}: Attribute does not exist in the schema.`).join('\n')}\n`);
  const required = new Set(requiredAttributes(pool));
  const attributes = { ...user.attributes };
  const pending = pendingOf(user);
  for (const n of names) {
    if (n === 'sub' || required.has(n) || isImmutable(pool, n)) throw new InvalidParameterException(`Cannot delete required or immutable attribute: ${n}`);
    delete attributes[n];
    if (n === 'email' || n === 'phone_number') { delete attributes[`${n}_verified`]; delete pending[n]; }
  }
  return { attributes, pending };
}

export interface AttributeChange {
  attributes: Attributes;
  pending: Partial<Record<Verifiable, string>>;
  /** Codes to send: to the new value of an auto-verified attribute, or to a held one. */
  codes: { attribute: Verifiable; to: string }[];
}

/**
 * The outcome of writing `changes`. A changed email or phone is unverified unless an admin sets
 * `*_verified` in the same call. Where the pool requires verification before update, a change to a
 * verified value is held: the old value stays shown and the login until the new one is verified
 * (VerifyUserAttribute, or an admin setting `*_verified` true), as Cognito documents.
 */
export function planAttributeChange(pool: LoadedPool, user: User, changes: Attributes, opts: { admin: boolean; sendCodes: boolean }): AttributeChange {
  const attributes = { ...user.attributes, ...changes };
  const pending = pendingOf(user);
  const codes: AttributeChange['codes'] = [];
  const held = pool.config.UserAttributeUpdateSettings?.AttributesRequireVerificationBeforeUpdate ?? [];
  const auto = pool.config.AutoVerifiedAttributes ?? [];
  for (const a of verifiable) {
    const value = changes[a];
    const vouched = opts.admin ? changes[`${a}_verified`] : undefined;
    if (value === undefined) {
      // An admin vouching for the address verifies the held value, as VerifyUserAttribute would.
      if (vouched === 'true' && pending[a]) { attributes[a] = pending[a]!; delete pending[a]; }
      continue;
    }
    delete pending[a];
    if (value === user.attributes[a]) continue;
    if (held.includes(a) && value && user.attributes[a] && user.attributes[`${a}_verified`] === 'true' && vouched !== 'true') {
      attributes[a] = user.attributes[a];
      pending[a] = value;
      codes.push({ attribute: a, to: value });
      continue;
    }
    if (vouched === undefined) attributes[`${a}_verified`] = 'false';
    if (opts.sendCodes && !opts.admin && value && auto.includes(a)) codes.push({ attribute: a, to: value });
  }
  return { attributes, pending, codes };
}

/** Stores the attributes, held values and login keys (with `patch`, in the same statement). */
export async function storeAttributes(ctx: Ctx, pool: LoadedPool, user: User, change: Pick<AttributeChange, 'attributes' | 'pending'>, patch: Updateable<UserTable> = {}) {
  const pending = Object.keys(change.pending).length ? JSON.stringify(change.pending) : null;
  try {
    await ctx.repo.updateUser(pool.id, user.id, {
      attributes: JSON.stringify(change.attributes), pending_attributes: pending, ...loginKeys(pool, user.username, change.attributes), updated_at: ctx.now(), ...patch,
    });
  } catch (e) {
    throw uniqueError(e, pool);
  }
}

/**
 * Issues a code for `to`, an attribute's value, and has the message triggers compose its message;
 * sending is separate, so a refused code or a failed trigger changes nothing.
 */
export async function attributeCode(ctx: Ctx, pool: LoadedPool, user: User, attribute: Verifiable, to: string | undefined, mc: Omit<MessageContext, 'user'>) {
  if (!to) throw new InvalidParameterException(`The user has no ${attribute} to verify.`);
  const code = await issueCode(ctx, pool.id, user.id, `verify:${attribute}`, to, CODE_TTL.attribute);
  const medium = attribute === 'email' ? 'EMAIL' : 'SMS';
  const composed = await composeMessage(ctx, pool, medium, { ...mc, user }, code.code);
  return () => ctx.messages.sendCode(pool, { medium, attribute, to }, code, composed);
}

/**
 * Applies attribute changes: codes first (the per-user cap may refuse them), then the change, then
 * the messages. `beforeSending` runs first when codes will go out (the rate limit).
 */
export async function updateAttributes(ctx: Ctx, pool: LoadedPool, user: User, changes: Attributes, admin: boolean, beforeSending?: () => Promise<void>, why: { clientId?: string; clientMetadata?: Strings } = {}) {
  const change = planAttributeChange(pool, user, changes, { admin, sendCodes: true });
  if (change.codes.length && beforeSending) await beforeSending();
  const sends = [];
  // The message triggers see the user as the change leaves them.
  const changed = { ...user, attributes: change.attributes };
  for (const c of change.codes) sends.push(await attributeCode(ctx, pool, changed, c.attribute, c.to, { ...why, source: 'UpdateUserAttribute' }));
  await storeAttributes(ctx, pool, user, change);
  const deliveries = [];
  for (const send of sends) deliveries.push(await send());
  return deliveries;
}
