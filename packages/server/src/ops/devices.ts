// Remembered devices: ConfirmDevice after a sign-in that handed out NewDeviceMetadata, and the
// user's and admins' views of a user's devices.
import { op } from '../wire/operations.js';
import type { Ctx } from '../domain/context.js';
import { adminFindUser, type User } from '../domain/users.js';
import { confirmDevice, deviceType, forgetDevice, listDevices, ownDevice, setDeviceStatus } from '../domain/devices.js';
import { authenticated, pageCursor, pageToken, poolOf } from './common.js';

async function adminUser(ctx: Ctx, input: { UserPoolId: string; Username: string }) {
  return adminFindUser(ctx, await poolOf(ctx, input), input.Username);
}

async function devicePage(ctx: Ctx, input: { Limit?: number; PaginationToken?: string }, user: User) {
  const { devices, next } = await listDevices(ctx, user, input.Limit || 60, pageCursor(input.PaginationToken, 'PaginationToken'));
  return { Devices: devices, PaginationToken: pageToken(next) };
}

op('ConfirmDevice', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  return confirmDevice(ctx, pool, user, input.DeviceKey, input.DeviceName, input.DeviceSecretVerifierConfig);
});

op('ListDevices', async (ctx, input) => devicePage(ctx, input, (await authenticated(ctx, input)).user));

op('GetDevice', async (ctx, input) => {
  const { user } = await authenticated(ctx, { AccessToken: input.AccessToken ?? '' });
  return { Device: deviceType(await ownDevice(ctx, user, input.DeviceKey)) };
});

op('UpdateDeviceStatus', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  await setDeviceStatus(ctx, user, input.DeviceKey, input.DeviceRememberedStatus);
  return {};
});

op('ForgetDevice', async (ctx, input) => {
  const { user } = await authenticated(ctx, { AccessToken: input.AccessToken ?? '' });
  await forgetDevice(ctx, user, input.DeviceKey);
  return {};
});

op('AdminListDevices', async (ctx, input) => devicePage(ctx, input, await adminUser(ctx, input)));

op('AdminGetDevice', async (ctx, input) => ({ Device: deviceType(await ownDevice(ctx, await adminUser(ctx, input), input.DeviceKey)) }));

op('AdminUpdateDeviceStatus', async (ctx, input) => {
  await setDeviceStatus(ctx, await adminUser(ctx, input), input.DeviceKey, input.DeviceRememberedStatus);
  return {};
});

op('AdminForgetDevice', async (ctx, input) => {
  await forgetDevice(ctx, await adminUser(ctx, input), input.DeviceKey);
  return {};
});
