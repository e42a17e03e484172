// Remembered devices: ConfirmDevice after a sign-in that handed out NewDeviceMetadata, and the
// user's and admins' views of a user's devices.
import { adminOp, publicOp } from '../wire/operations.js';
import type { Ctx } from '../domain/context.js';
import type { Input } from '../wire/input.js';
import { adminFindUser } from '../domain/users.js';
import { confirmDevice, deviceType, forgetDevice, listDevices, ownDevice, setDeviceStatus } from '../domain/devices.js';
import { pageCursor, pageToken } from '../domain/pool-config.js';
import { authenticated, poolOf, usernameRule } from './common.js';

const deviceKey = (input: Input) => input.str('DeviceKey');
const rememberedStatus = (input: Input) => input.optStr('DeviceRememberedStatus') as 'remembered' | 'not_remembered' | undefined;

async function adminUser(ctx: Ctx, input: Input) {
  const pool = await poolOf(ctx, input);
  return adminFindUser(ctx, pool, input.str('Username', usernameRule));
}

async function devicePage(ctx: Ctx, input: Input, user: Parameters<typeof listDevices>[1]) {
  const { devices, next } = await listDevices(ctx, user, input.optInt('Limit', 0, 60) || 60, pageCursor(input, 'PaginationToken'));
  return { Devices: devices, PaginationToken: pageToken(next) };
}

publicOp('ConfirmDevice', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  const config = input.optObj('DeviceSecretVerifierConfig')?.raw as { PasswordVerifier?: string; Salt?: string } | undefined;
  return confirmDevice(ctx, pool, user, deviceKey(input), input.optStr('DeviceName'), config);
});

publicOp('ListDevices', async (ctx, input) => devicePage(ctx, input, (await authenticated(ctx, input)).user));

publicOp('GetDevice', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  return { Device: deviceType(await ownDevice(ctx, user, deviceKey(input))) };
});

publicOp('UpdateDeviceStatus', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  await setDeviceStatus(ctx, user, deviceKey(input), rememberedStatus(input));
  return {};
});

publicOp('ForgetDevice', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  await forgetDevice(ctx, user, deviceKey(input));
  return {};
});

adminOp('AdminListDevices', async (ctx, input) => devicePage(ctx, input, await adminUser(ctx, input)));

adminOp('AdminGetDevice', async (ctx, input) => {
  const user = await adminUser(ctx, input);
  return { Device: deviceType(await ownDevice(ctx, user, deviceKey(input))) };
});

adminOp('AdminUpdateDeviceStatus', async (ctx, input) => {
  await setDeviceStatus(ctx, await adminUser(ctx, input), deviceKey(input), rememberedStatus(input));
  return {};
});

adminOp('AdminForgetDevice', async (ctx, input) => {
  await forgetDevice(ctx, await adminUser(ctx, input), deviceKey(input));
  return {};
});
