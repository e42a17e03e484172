// Sign-in cost benchmark. Prints figures; asserts nothing. The machine is shared and noisy, so the
// figures that matter are ratios measured in this one run: server CPU per sign-in / bare crypto floor.
import crypto from 'node:crypto';
import { serverEphemeral, serverSessionKey, computeVerifier, generateSalt, clientEphemeral } from '@gatehouse/srp';
import { startGatehouse } from '../test/support/harness.js';
import { load, warmUp } from './common.js';
import { benchPoolFor } from './pool.js';

const N = Number(process.env.BENCH_N ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PASSWORD = 'Bench-Passw0rd!';

function perOp(fn: () => void, n: number) {
  for (let i = 0; i < Math.min(20, n); i++) fn();
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000 / n;
}

/** The bare crypto of one sign-in: SRP server math or one verifier, plus two RS256 signatures, plus unsealing. */
function cryptoFloor() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const salt = generateSalt();
  const v = computeVerifier('pool', 'user', PASSWORD, salt);
  const { A } = clientEphemeral();
  const key = crypto.randomBytes(32);
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(Buffer.concat([salt, v])), c.final()]);
  const tag = c.getAuthTag();
  const open = () => { const d = crypto.createDecipheriv('aes-256-gcm', key, iv); d.setAuthTag(tag); return Buffer.concat([d.update(body), d.final()]); };
  const sign = () => crypto.sign('sha256', Buffer.from('x'.repeat(900)), privateKey);
  return {
    srp: perOp(() => { open(); const { b, B } = serverEphemeral(v); serverSessionKey({ A, B, b, verifier: v }); sign(); sign(); }, 200),
    password: perOp(() => { open(); computeVerifier('pool', 'user', PASSWORD, salt); sign(); sign(); }, 200),
    modexp: perOp(() => computeVerifier('pool', 'user', PASSWORD, salt), 200),
    rsa: perOp(sign, 200),
  };
}

const gh = await startGatehouse();
try {
  const bench = await benchPoolFor(gh);
  const pid = gh.proc.pid!;
  const warmRounds = await warmUp(pid, CONCURRENCY, [bench.srp, bench.password]);
  const floor = cryptoFloor();
  // Responsiveness: how long a trivial request waits while sign-ins keep the server busy.
  const probe: number[] = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const s = performance.now();
      await (await fetch(gh.url + '/health')).text();
      probe.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const srp = await load('USER_SRP_AUTH', pid, N, CONCURRENCY, bench.srp);
  probing = false;
  await prober;
  probe.sort((a, b) => a - b);
  const pwd = await load('USER_PASSWORD_AUTH', pid, N, CONCURRENCY, bench.password);
  const rows = [
    ['crypto floor, SRP sign-in (3 modexp + 2 RS256 + unseal)', floor.srp],
    ['crypto floor, password sign-in (1 modexp + 2 RS256 + unseal)', floor.password],
    ['one 3072-bit modexp (OpenSSL)', floor.modexp],
    ['one RS256 signature', floor.rsa],
    ['server CPU per USER_SRP_AUTH sign-in (2 requests)', srp.perOpCpuMs],
    ['server CPU per USER_PASSWORD_AUTH sign-in', pwd.perOpCpuMs],
  ] as const;
  console.log(`\nGatehouse sign-in benchmark: ${N} sign-ins per flow, concurrency ${CONCURRENCY}, SQLite, node ${process.version}, after ${warmRounds} warm-up rounds of 200 per flow`);
  for (const [label, ms] of rows) console.log(`  ${label.padEnd(62)} ${ms.toFixed(3).padStart(8)} ms`);
  console.log(`  SRP sign-in: server CPU / crypto floor = ${(srp.perOpCpuMs / floor.srp).toFixed(2)}x (target <= 1.5x)`);
  console.log(`  USER_PASSWORD_AUTH: server CPU ${pwd.perOpCpuMs.toFixed(2)} ms (target <= 1.9 ms, a third of cognito-local's 5.7 ms); / floor = ${(pwd.perOpCpuMs / floor.password).toFixed(2)}x`);
  for (const r of [srp, pwd]) console.log(`  ${r.label}: ${r.opsPerSec.toFixed(0)} sign-ins/s, latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, kernel share of server CPU ${(r.systemShare * 100).toFixed(0)}%`);
  console.log(`  /health latency during the SRP load: p50 ${probe[Math.floor(probe.length / 2)].toFixed(1)} ms, p99 ${probe[Math.floor(probe.length * 0.99)].toFixed(1)} ms (${probe.length} probes)`);
} finally {
  await gh.stop();
}

// Throughput with one process per core (GATEHOUSE_PROCESSES=2 on this 2-core machine), same load.
const multi = await startGatehouse({ GATEHOUSE_PROCESSES: '2' });
try {
  const bench = await benchPoolFor(multi);
  const r = await load('USER_PASSWORD_AUTH, 2 processes', multi.proc.pid!, N, CONCURRENCY * 2, bench.password);
  console.log(`  GATEHOUSE_PROCESSES=2: ${r.opsPerSec.toFixed(0)} USER_PASSWORD_AUTH sign-ins/s (the client shares the 2 cores)`);
} finally {
  await multi.stop();
}
