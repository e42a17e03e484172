// Remembered devices (the pool's DeviceConfiguration). A sign-in on a pool that tracks devices gets
// NewDeviceMetadata with its tokens; the client confirms the device (ConfirmDevice) with an SRP
// verifier of a random password only it knows, and later proves it with DEVICE_SRP_AUTH /
// DEVICE_PASSWORD_VERIFIER. A remembered device may stand in for MFA when the pool says so
// (ChallengeRequiredOnNewDevice), and only after that proof.
import crypto from 'node:crypto';
import { InvalidParameterException, NotAuthorizedException, ResourceNotFoundException } from '../errors.js';
import type { Device } from '../storage/repository.js';
import type { Ctx } from './context.js';
import type { LoadedPool } from './pools.js';
import type { User } from './users.js';

export const deviceConfiguration = (pool: LoadedPool) => pool.config.DeviceConfiguration;

/** Whether a remembered device may sign in without MFA (after proving itself). */
export const devicesBypassMfa = (pool: LoadedPool) => deviceConfiguration(pool)?.ChallengeRequiredOnNewDevice === true;

/** A new, unconfirmed device for the sign-in that ends now: NewDeviceMetadata, or nothing when the pool tracks no devices. */
export async function newDevice(ctx: Ctx, pool: LoadedPool, user: User): Promise<{ DeviceKey: string; DeviceGroupKey: string } | undefined> {
  if (!deviceConfiguration(pool)) return undefined;
  const now = ctx.now();
  const DeviceKey = `${ctx.config.region}_${crypto.randomUUID()}`;
  const DeviceGroupKey = `-${crypto.randomBytes(7).toString('base64url')}`;
  await ctx.repo.createDevice({
    device_key: DeviceKey, pool_id: pool.id, user_id: user.id, group_key: DeviceGroupKey, verifier: null, name: null, remembered: 0,
    confirmed_at: null, last_ip: ctx.ip ?? null, last_auth_at: now, created_at: now, updated_at: now,
  });
  return { DeviceKey, DeviceGroupKey };
}

const sealContext = (d: { device_key: string; user_id: string }) => `device-verifier:${d.user_id}:${d.device_key}`;

/** The user's device named `key`, or ResourceNotFoundException. */
export async function ownDevice(ctx: Ctx, user: User, key: string): Promise<Device> {
  const d = await ctx.repo.getDevice(key);
  if (!d || d.user_id !== user.id || d.pool_id !== user.pool_id) throw new ResourceNotFoundException('Device does not exist.');
  return d;
}

/** A confirmed device of the user, when `key` names one; undefined otherwise (a stale or foreign key is no device). */
export async function knownDevice(ctx: Ctx, user: User, key: string | undefined): Promise<Device | undefined> {
  if (!key || key.length > 55) return undefined;
  const d = await ctx.repo.getDevice(key);
  return d && d.user_id === user.id && d.pool_id === user.pool_id && d.confirmed_at !== null && d.verifier ? d : undefined;
}

/** ConfirmDevice: stores the device's verifier; answers whether the user must still choose to remember it. */
export async function confirmDevice(ctx: Ctx, pool: LoadedPool, user: User, key: string, name: string | undefined, config: { PasswordVerifier?: string; Salt?: string } | undefined) {
  const config_ = deviceConfiguration(pool);
  const d = await ownDevice(ctx, user, key);
  if (d.confirmed_at !== null) throw new NotAuthorizedException('Device is already confirmed.');
  const verifier = Buffer.from(config?.PasswordVerifier ?? '', 'base64');
  const salt = Buffer.from(config?.Salt ?? '', 'base64');
  if (!verifier.length || !salt.length || verifier.length > 1024 || salt.length > 1024) throw new InvalidParameterException('DeviceSecretVerifierConfig needs a PasswordVerifier and a Salt.');
  const onPrompt = config_?.DeviceOnlyRememberedOnUserPrompt === true;
  const now = ctx.now();
  const sealed = ctx.secrets.encrypt(JSON.stringify({ salt: salt.toString('base64'), verifier: verifier.toString('base64') }), sealContext(d));
  await ctx.repo.updateDevice(user.id, key, { verifier: sealed, name: name ?? null, confirmed_at: now, remembered: onPrompt ? 0 : 1, updated_at: now });
  return { UserConfirmationNecessary: onPrompt };
}

export function openDeviceVerifier(ctx: Ctx, d: Device): { salt: Buffer; verifier: Buffer } {
  const v = JSON.parse(ctx.secrets.decrypt(d.verifier!, sealContext(d)).toString('utf8')) as { salt: string; verifier: string };
  return { salt: Buffer.from(v.salt, 'base64'), verifier: Buffer.from(v.verifier, 'base64') };
}

/** A device's last sign-in: when and from where. */
export async function deviceAuthenticated(ctx: Ctx, d: Device) {
  const now = ctx.now();
  await ctx.repo.updateDevice(d.user_id, d.device_key, { last_auth_at: now, last_ip: ctx.ip ?? d.last_ip, updated_at: now });
}

/** Cognito's DeviceType. Dates are epoch seconds. */
export function deviceType(d: Device) {
  const attrs = [
    { Name: 'device_status', Value: 'valid' },
    ...(d.name ? [{ Name: 'device_name', Value: d.name }] : []),
    { Name: 'dev:device_remembered_status', Value: d.remembered ? 'remembered' : 'not_remembered' },
    ...(d.last_ip ? [{ Name: 'last_ip_used', Value: d.last_ip }] : []),
  ];
  return {
    DeviceKey: d.device_key,
    DeviceAttributes: attrs,
    DeviceCreateDate: d.created_at / 1000,
    DeviceLastModifiedDate: d.updated_at / 1000,
    ...(d.last_auth_at ? { DeviceLastAuthenticatedDate: d.last_auth_at / 1000 } : {}),
  };
}

export async function listDevices(ctx: Ctx, user: User, limit: number, after?: string) {
  const page = await ctx.repo.listDevices(user.id, limit, after);
  return { devices: page.items.map(deviceType), next: page.next };
}

export async function setDeviceStatus(ctx: Ctx, user: User, key: string, status: 'remembered' | 'not_remembered' | undefined) {
  const d = await ownDevice(ctx, user, key);
  if (d.confirmed_at === null) throw new ResourceNotFoundException('Device does not exist.');
  await ctx.repo.updateDevice(user.id, key, { remembered: status === 'remembered' ? 1 : 0, updated_at: ctx.now() });
}

export async function forgetDevice(ctx: Ctx, user: User, key: string) {
  if (!(await ctx.repo.deleteDevice(user.id, key))) throw new ResourceNotFoundException('Device does not exist.');
}
