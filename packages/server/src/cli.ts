#!/usr/bin/env node
import { loadConfig } from './config.js';
import { openRepository } from './storage/open.js';

const [cmd = 'help', ...args] = process.argv.slice(2);
if (cmd === 'start') {
  await import('./main.js');
} else if (cmd === 'outbox') {
  const config = loadConfig();
  const repo = await openRepository({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const limit = Number(args[args.indexOf('--limit') + 1]) || 20;
  const rows = await repo.listOutbox(limit);
  for (const m of rows.reverse()) {
    process.stdout.write(`--- ${new Date(m.created_at).toISOString()} ${m.channel} to ${m.destination} (pool ${m.pool_id})\n${m.subject ? `Subject: ${m.subject}\n` : ''}${m.body}\n`);
  }
  if (!rows.length) process.stdout.write('The outbox is empty.\n');
  await repo.close();
} else {
  process.stdout.write('usage: gatehouse start | gatehouse outbox [--limit N]\n');
}
