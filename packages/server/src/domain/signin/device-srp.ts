// DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER: a confirmed device proves it holds the random password
// whose verifier ConfirmDevice stored (SRP with the device group key as pool name and the device key
// as user). They prove 'device'; on a remembered device that stands in for MFA (pipeline.ts).
import crypto from 'node:crypto';
import { serverEphemeral, serverSessionKey, passwordClaimSignature, verifyClaim, padHex, fromHex, checkPublic, SrpError } from '@gatehouse/srp';
import { InvalidParameterException, NotAuthorizedException } from '../../errors.js';
import type { Device } from '../../storage/repository.js';
import { deviceAuthenticated, knownDevice, openDeviceVerifier } from '../devices.js';
import { recordAuthEvent } from '../events.js';
import type { User } from '../users.js';
import {
  CLOCK_SKEW_MS, carried, consumeSession, createSession, invalidSession, parseTimestamp, proved, required, userOf, wrongPassword,
  type ChallengeAnswer, type ChallengeModule, type SessionState, type SignIn,
} from './base.js';

export interface DeviceSrpState extends SessionState { challenge: 'DEVICE_SRP_AUTH'; userId: string; deviceKey: string }
export interface DeviceVerifierState extends SessionState {
  challenge: 'DEVICE_PASSWORD_VERIFIER'; userId: string; deviceKey: string; A: string; B: string; b: string; block: string;
}

/** Asks the client to prove the device it named. */
export async function startDeviceSrp(sc: SignIn, user: User, device: Device): Promise<ChallengeAnswer> {
  const state: DeviceSrpState = { challenge: 'DEVICE_SRP_AUTH', ...carried(sc), userId: user.id, deviceKey: device.device_key };
  return {
    ChallengeName: 'DEVICE_SRP_AUTH',
    Session: await createSession(sc.ctx, sc.pool, sc.client, state),
    ChallengeParameters: { USERNAME: user.username },
  };
}

/** The device a session is about, as stored now: still the user's, still confirmed. */
async function deviceOf(sc: SignIn, userId: string, deviceKey: string, named: string | undefined) {
  if (named !== deviceKey) throw new NotAuthorizedException('Invalid device key given.');
  const user = await userOf(sc, userId);
  const device = user && (await knownDevice(sc.ctx, user, deviceKey));
  if (!user || !device) throw new NotAuthorizedException('Device does not exist.');
  return { user, device };
}

export const deviceSrpAuth: ChallengeModule<DeviceSrpState> = {
  name: 'DEVICE_SRP_AUTH',

  async answer(sc, s, r) {
    const { ctx, pool, client } = sc;
    required(r, 'SRP_A', 'DEVICE_KEY');
    await consumeSession(ctx, s);
    const { user, device } = await deviceOf(sc, s.state.userId, s.state.deviceKey, r.DEVICE_KEY);
    let A: Buffer;
    try {
      A = fromHex(r.SRP_A);
      checkPublic(A, 'SRP_A');
    } catch {
      throw new InvalidParameterException('Invalid SRP_A');
    }
    const { salt, verifier } = openDeviceVerifier(ctx, device);
    const { b, B } = serverEphemeral(verifier);
    const block = crypto.randomBytes(64).toString('base64');
    const state: DeviceVerifierState = {
      challenge: 'DEVICE_PASSWORD_VERIFIER', ...carried(sc), userId: user.id, deviceKey: device.device_key,
      A: A.toString('base64'), B: B.toString('base64'), b: b.toString('base64'), block,
    };
    return {
      kind: 'answer',
      answer: {
        ChallengeName: 'DEVICE_PASSWORD_VERIFIER',
        Session: await createSession(ctx, pool, client, state),
        ChallengeParameters: { SRP_B: padHex(B), SALT: padHex(salt), SECRET_BLOCK: block, USERNAME: user.username, DEVICE_KEY: device.device_key },
      },
    };
  },
};

export const devicePasswordVerifier: ChallengeModule<DeviceVerifierState> = {
  name: 'DEVICE_PASSWORD_VERIFIER',

  async answer(sc, s, r) {
    const { ctx } = sc;
    required(r, 'PASSWORD_CLAIM_SIGNATURE', 'PASSWORD_CLAIM_SECRET_BLOCK', 'TIMESTAMP');
    await consumeSession(ctx, s);
    const st = s.state;
    const { user, device } = await deviceOf(sc, st.userId, st.deviceKey, r.DEVICE_KEY ?? st.deviceKey);
    if (r.PASSWORD_CLAIM_SECRET_BLOCK !== st.block) throw invalidSession();
    const when = parseTimestamp(r.TIMESTAMP);
    if (!Number.isFinite(when) || Math.abs(when - ctx.now()) > CLOCK_SKEW_MS) throw new NotAuthorizedException('Incorrect timestamp. Check your clock.');
    let holds = false;
    try {
      const key = serverSessionKey({ A: Buffer.from(st.A, 'base64'), B: Buffer.from(st.B, 'base64'), b: Buffer.from(st.b, 'base64'), verifier: openDeviceVerifier(ctx, device).verifier });
      const expected = passwordClaimSignature({ key, poolName: device.group_key, userId: device.device_key, secretBlock: Buffer.from(st.block, 'base64'), timestamp: r.TIMESTAMP });
      holds = verifyClaim(expected, r.PASSWORD_CLAIM_SIGNATURE);
    } catch (e) {
      if (!(e instanceof SrpError)) throw e;
    }
    if (!holds) {
      await recordAuthEvent(ctx, user, 'SignIn', 'Fail', 'Success');
      throw wrongPassword();
    }
    await deviceAuthenticated(ctx, device);
    return proved(user, 'device');
  },
};
