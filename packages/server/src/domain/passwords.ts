import { computeVerifier, generateSalt, poolNameOf } from '@gatehouse/srp';
import crypto from 'node:crypto';
import type { Ctx } from './context.js';
import type { LoadedPool } from './pools.js';
import { checkPassword } from './password-policy.js';
import { passwordPolicy } from './pools.js';

// A user's password is kept only as the SRP salt and verifier, sealed with the master key: the
// verifier alone lets an attacker test guesses offline, because Cognito's SRP has no stretching.
export interface StoredPassword { salt: Buffer; verifier: Buffer }

const context = (poolId: string, userId: string) => `password:${poolId}:${userId}`;

export function sealPassword(ctx: Ctx, pool: LoadedPool, user: { id: string; username: string }, password: string, validate = true): string {
  if (validate) checkPassword(password, passwordPolicy(pool));
  const salt = generateSalt();
  const verifier = computeVerifier(poolNameOf(pool.id), user.username, password, salt);
  const blob = Buffer.concat([Buffer.from([salt.length]), salt, verifier]);
  return ctx.secrets.encrypt(blob, context(pool.id, user.id));
}

export function openPassword(ctx: Ctx, pool: LoadedPool, user: { id: string; password: string | null }): StoredPassword | undefined {
  if (!user.password) return undefined;
  const blob = ctx.secrets.decrypt(user.password, context(pool.id, user.id));
  const n = blob[0];
  return { salt: blob.subarray(1, 1 + n), verifier: blob.subarray(1 + n) };
}

/** Recomputes the verifier from the password; compares in constant time. */
export function passwordMatches(ctx: Ctx, pool: LoadedPool, user: { id: string; username: string; password: string | null }, password: string): boolean {
  const stored = openPassword(ctx, pool, user);
  if (!stored) return false;
  const v = computeVerifier(poolNameOf(pool.id), user.username, password, stored.salt);
  return v.length === stored.verifier.length && crypto.timingSafeEqual(v, stored.verifier);
}

/** Spends the same work as passwordMatches for a user that does not exist, so timing does not tell. */
export function burnPasswordCheck(ctx: Ctx, pool: LoadedPool, username: string, password: string) {
  computeVerifier(poolNameOf(pool.id), username, password, ctx.secrets.macBytes('fake-salt', pool.id, username).subarray(0, 16));
}
