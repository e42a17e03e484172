import type { Repository } from '../storage/repository.js';
import type { Config } from '../config.js';
import type { Secrets } from './secrets.js';
import type { Messenger } from './messages.js';
import type { TokenService } from './tokens.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Triggers } from './triggers/runtime.js';

/** What every operation handler gets: storage, settings and the domain services. */
export interface Ctx {
  repo: Repository;
  config: Config;
  secrets: Secrets;
  messages: Messenger;
  tokens: TokenService;
  log: Logger;
  metrics: Metrics;
  /** The pools' Lambda triggers. */
  triggers: Triggers;
  now(): number;
  /**
   * The end user's address for the request at hand: the caller's, or for signed (admin) calls the
   * IpAddress of their ContextData. Undefined outside a request and when unknown.
   */
  ip?: string;
}
