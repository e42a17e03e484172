import cluster from 'node:cluster';
import os from 'node:os';
import { loadConfig } from './config.js';
import { createPino, domainLogger } from './log.js';
import { startServer } from './app.js';
import { openRepository } from './storage/open.js';
import { serveClusterMetrics } from './metrics.js';

const config = loadConfig();
const logger = createPino(config.logLevel);
const log = domainLogger(logger);
const wanted = process.env.GATEHOUSE_PROCESSES ?? '1';
const processes = wanted === 'auto' ? os.availableParallelism() : Math.max(1, Number(wanted) || 1);

if (processes > 1 && cluster.isPrimary) {
  // Migrate once before the workers open the store, so they never race on the schema.
  await (await openRepository({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })).close();
  if (config.admin.file) log.info('admin credentials for SigV4-signed calls are in ' + config.admin.file);
  let stopping = false;
  serveClusterMetrics(cluster);
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error('worker died; starting another', { pid: worker.process.pid, code, signal });
    cluster.fork();
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      stopping = true;
      log.info('shutting down', { signal: sig, processes });
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    });
  }
} else {
  if (cluster.isPrimary && config.admin.file) log.info('admin credentials for SigV4-signed calls are in ' + config.admin.file);
  const server = await startServer(config, logger);
  log.info('gatehouse listening', { url: server.url, publicUrl: config.publicUrl, storage: config.databaseUrl ? 'postgresql' : 'sqlite', dataDir: config.dataDir });
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, async () => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal: sig });
      await server.close();
      process.exit(0);
    });
  }
}
