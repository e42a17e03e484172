import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startServer } from './app.js';

const config = loadConfig();
const log = createLogger(config.logLevel);
if (config.admin.file) log.info('admin credentials for SigV4-signed calls are in ' + config.admin.file);
const server = await startServer(config, log);
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
