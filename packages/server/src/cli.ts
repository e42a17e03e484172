#!/usr/bin/env node
import { loadConfig } from './config.js';
import { openRepository } from './storage/open.js';
import { Secrets } from './domain/secrets.js';
import { openOutboxMessage } from './domain/messages.js';

const [cmd = 'help', ...args] = process.argv.slice(2);
if (cmd === 'start') {
  await import('./main.js');
} else if (cmd === 'outbox') {
  // Messages are sealed under the master key: this must run with the server's environment.
  const config = loadConfig();
  const repo = await openRepository({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const secrets = new Secrets(config.masterKey);
  const limit = Number(args[args.indexOf('--limit') + 1]) || 20;
  const rows = await repo.listOutbox(limit);
  let unreadable = 0;
  for (const m of rows.reverse()) {
    let letter;
    try {
      letter = openOutboxMessage(secrets, m);
    } catch {
      unreadable++;
      continue;
    }
    const waiting = m.state === 'pending' ? ` [waiting to be sent, ${m.attempts} attempt${m.attempts === 1 ? '' : 's'} so far]` : '';
    process.stdout.write(`--- ${new Date(m.created_at).toISOString()} ${m.channel} to ${letter.to} (pool ${m.pool_id})${waiting}\n${letter.subject ? `Subject: ${letter.subject}\n` : ''}${letter.body}\n`);
  }
  if (unreadable) process.stderr.write(`${unreadable} message(s) could not be opened: they were sealed under another master key (GATEHOUSE_MASTER_KEY or <data>/master.key).\n`);
  if (!rows.length) process.stdout.write('The outbox is empty.\n');
  await repo.close();
} else if (cmd === 'console' && args[0] === 'add-operator' && args[1]) {
  const { addOperator } = await import('./console-cli.js');
  process.exitCode = await addOperator(args[1]);
} else {
  process.stdout.write('usage: gatehouse start | gatehouse outbox [--limit N] | gatehouse console add-operator <email>\n');
}
