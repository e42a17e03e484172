import type { Repository } from '../storage/repository.js';
import type { Config } from '../config.js';
import type { Secrets } from './secrets.js';
import type { Messenger } from './messages.js';
import type { TokenService } from './tokens.js';
import type { Logger } from '../log.js';

/** What every operation handler gets: storage, settings and the domain services. */
export interface Ctx {
  repo: Repository;
  config: Config;
  secrets: Secrets;
  messages: Messenger;
  tokens: TokenService;
  log: Logger;
  now(): number;
}
