// Shared pieces of the benchmarks: server CPU from /proc, a load runner, and sign-in clients.
import fs from 'node:fs';
import { clientEphemeral, clientSessionKey, passwordClaimSignature, formatTimestamp, fromHex, poolNameOf } from '@gatehouse/srp';

export function cpuTimes(pid: number) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(f[11]) * 10, system: Number(f[12]) * 10 }; // ticks of 10 ms (USER_HZ 100)
}

export interface LoadResult { label: string; perOpCpuMs: number; opsPerSec: number; p50: number; p99: number; systemShare: number }

/** Runs `one` n times with `concurrency` callers; reports the server process's CPU per call. */
export async function load(label: string, pid: number, n: number, concurrency: number, one: (i: number) => Promise<void>): Promise<LoadResult> {
  const lat: number[] = [];
  const before = cpuTimes(pid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      const s = performance.now();
      await one(i);
      lat.push(performance.now() - s);
    }
  }));
  const wall = performance.now() - t0;
  const after = cpuTimes(pid);
  const cpu = after.user + after.system - before.user - before.system;
  lat.sort((a, b) => a - b);
  return { label, perOpCpuMs: cpu / n, opsPerSec: (n * 1000) / wall, p50: lat[Math.floor(n * 0.5)], p99: lat[Math.floor(n * 0.99)], systemShare: (after.system - before.system) / cpu };
}

/**
 * Runs each flow in rounds until its server CPU per call settles (two rounds within 5%), at most
 * `maxRounds`. A fresh server costs about 1.6x its steady state for its first thousand or so
 * sign-ins (the JIT, caches, the WAL growing); what a long-running server costs is the figure.
 */
export async function warmUp(pid: number, concurrency: number, flows: ((i: number) => Promise<void>)[], round = 200, maxRounds = 12): Promise<number> {
  const last: number[] = [];
  let settled = 0, rounds = 0;
  while (settled < flows.length && rounds < maxRounds) {
    rounds++;
    settled = 0;
    for (const [i, flow] of flows.entries()) {
      const cpu = (await load('warm-up', pid, round, concurrency, flow)).perOpCpuMs;
      if (last[i] !== undefined && Math.abs(cpu - last[i]) <= 0.05 * last[i]) settled++;
      last[i] = cpu;
    }
  }
  return rounds;
}

export function cognito(url: string) {
  return async (op: string, body: object) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${op}` }, body: JSON.stringify(body) });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`${op}: ${JSON.stringify(json)}`);
    return json;
  };
}

export function signIns(url: string, poolId: string, clientId: string, username: string, password: string) {
  const call = cognito(url);
  return {
    async srp() {
      const { a, A } = clientEphemeral();
      const start = await call('InitiateAuth', { ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: username, SRP_A: A.toString('hex') } });
      const p = start.ChallengeParameters;
      const key = clientSessionKey({ poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, password, salt: fromHex(p.SALT), A, a, B: fromHex(p.SRP_B) });
      const timestamp = formatTimestamp(new Date());
      const sig = passwordClaimSignature({ key, poolName: poolNameOf(poolId), userId: p.USER_ID_FOR_SRP, secretBlock: Buffer.from(p.SECRET_BLOCK, 'base64'), timestamp });
      const done = await call('RespondToAuthChallenge', { ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: start.Session, ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK, TIMESTAMP: timestamp, PASSWORD_CLAIM_SIGNATURE: sig } });
      if (!done.AuthenticationResult) throw new Error('no tokens');
    },
    async password() {
      const done = await call('InitiateAuth', { ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password } });
      if (!done.AuthenticationResult) throw new Error('no tokens');
    },
  };
}
