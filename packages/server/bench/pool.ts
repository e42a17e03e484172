import { AdminCreateUserCommand, AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { CreateUserPoolCommandInput } from '@aws-sdk/client-cognito-identity-provider';
import { createPoolAndClient, type Gatehouse } from '../test/support/harness.js';
import { signIns } from './common.js';

export const BENCH_PASSWORD = 'Bench-Passw0rd!';

/** A pool with one confirmed user, ready for sign-ins. */
export async function benchPoolFor(gh: Gatehouse, pool: Partial<CreateUserPoolCommandInput> = {}) {
  const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: [], ...pool });
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'bench', MessageAction: 'SUPPRESS' }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: 'bench', Password: BENCH_PASSWORD, Permanent: true }));
  return { poolId, clientId, ...signIns(gh.url, poolId, clientId, 'bench', BENCH_PASSWORD) };
}
