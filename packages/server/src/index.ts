export { startServer, buildApp, type RunningServer } from './app.js';
export { loadConfig, type Config } from './config.js';
