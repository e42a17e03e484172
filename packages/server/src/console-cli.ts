// `gatehouse console add-operator <email>`: invites an operator to the console through the same
// operations the API and the console use (AdminCreateUser, AdminAddUserToGroup), in the server's
// environment: the invitation, with its temporary password, goes through the outbox like any other.
import { loadConfig } from './config.js';
import { createPino, domainLogger } from './log.js';
import { openRepository } from './storage/open.js';
import { Secrets } from './domain/secrets.js';
import { Messenger } from './domain/messages.js';
import { TokenService } from './domain/tokens.js';
import { Metrics } from './metrics.js';
import { Triggers } from './domain/triggers/runtime.js';
import type { Ctx } from './domain/context.js';
import { ensureConsolePool, OPERATORS_GROUP, auditEntry, type Operator } from './domain/operators.js';
import { operations } from './wire/operations.js';
import { cognitoModel } from './wire/model.js';
import { CognitoError } from './errors.js';
import './ops/index.js';

const CLI: Operator = { sub: 'cli', login: 'gatehouse console add-operator (command line)' };

export async function addOperator(email: string): Promise<number> {
  const config = loadConfig();
  if (!config.console) {
    process.stderr.write('The console is off (GATEHOUSE_CONSOLE=off): there is no console to invite operators to.\n');
    return 1;
  }
  const log = domainLogger(createPino('warn', process.stderr));
  const repo = await openRepository({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const secrets = new Secrets(config.masterKey);
  const messages = new Messenger(repo, secrets, log, { smtpUrl: config.smtpUrl, emailFrom: config.emailFrom, smsWebhookUrl: config.smsWebhookUrl });
  const metrics = new Metrics();
  const ctx: Ctx = {
    repo, config, secrets, log, messages, now: () => Date.now(), metrics, triggers: new Triggers(config.triggers, log, metrics), tokens: new TokenService(repo, secrets, config.publicUrl),
  };
  const model = cognitoModel();
  // Each call as the server makes it: validated against the model, then the handler; each one audited.
  const call = async (name: string, body: object) => {
    const input = model.readInput(name, body) as object;
    let outcome = 'ok';
    try {
      return await operations.get(name)!.handler(ctx, input, { ip: '127.0.0.1', headers: {} });
    } catch (e) {
      outcome = e instanceof CognitoError ? e.name : 'InternalErrorException';
      throw e;
    } finally {
      await repo.addAudit(auditEntry(CLI, name, input, undefined, outcome, undefined, ctx.now()));
    }
  };
  try {
    const { poolId } = await ensureConsolePool(ctx);
    const attributes = [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }];
    let invited = true;
    try {
      await call('AdminCreateUser', { UserPoolId: poolId, Username: email, UserAttributes: attributes, DesiredDeliveryMediums: ['EMAIL'] });
    } catch (e) {
      if (!(e instanceof CognitoError) || e.name !== 'UsernameExistsException') throw e;
      // Already invited: a new temporary password if they never signed in; either way, an operator.
      const user = await call('AdminGetUser', { UserPoolId: poolId, Username: email }) as { UserStatus?: string };
      invited = user.UserStatus === 'FORCE_CHANGE_PASSWORD';
      if (invited) await call('AdminCreateUser', { UserPoolId: poolId, Username: email, MessageAction: 'RESEND', DesiredDeliveryMediums: ['EMAIL'] });
    }
    await call('AdminAddUserToGroup', { UserPoolId: poolId, Username: email, GroupName: OPERATORS_GROUP });
    let how = `${email} already had an account (their password stands); they are an operator now.`;
    if (invited && config.smtpUrl) {
      // Sent by any running server within a second; this process sends it too if none is running.
      messages.start();
      const end = Date.now() + 15_000;
      while (Date.now() < end && (await repo.listOutbox(100)).some((m) => m.pool_id === poolId && m.state === 'pending')) await new Promise((r) => setTimeout(r, 200));
      messages.stop();
      how = `${email} is an operator; an invitation with a temporary password was mailed to them.`;
    } else if (invited) {
      how = `${email} is an operator. No mail transport is configured (GATEHOUSE_SMTP_URL): read the invitation with \`npx gatehouse outbox\`.`;
    }
    process.stdout.write(`${how}\nConsole: ${config.publicUrl}/console/\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof CognitoError ? `${e.name}: ${e.message}` : String((e as Error)?.stack ?? e)}\n`);
    return 1;
  } finally {
    await repo.close();
  }
}
