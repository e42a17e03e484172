import type { Repository, Pool, Client } from './repository.js';

interface Cached<T> { rows: Map<string, { at: number; row: T }>; writes: Map<string, number> }

/**
 * Keeps pool and client rows for a moment: every request reads both, and they change rarely.
 * Writes through this process clear its copy at once; other processes see a change within ttlMs.
 */
export function withConfigCache(repo: Repository, ttlMs: number, now: () => number = Date.now): Repository {
  const pools: Cached<Pool> = { rows: new Map(), writes: new Map() };
  const clients: Cached<Client> = { rows: new Map(), writes: new Map() };
  const read = async <T>(cache: Cached<T>, id: string, load: () => Promise<T | undefined>) => {
    const hit = cache.rows.get(id);
    if (hit && now() - hit.at < ttlMs) return hit.row;
    const writes = cache.writes.get(id) ?? 0;
    const row = await load();
    // A read that a write overtook may hold the old row: it is answered, not kept.
    if ((cache.writes.get(id) ?? 0) !== writes) return row;
    if (row) cache.rows.set(id, { at: now(), row });
    else cache.rows.delete(id);
    return row;
  };
  const forget = <T>(cache: Cached<T>, id: string) => {
    cache.writes.set(id, (cache.writes.get(id) ?? 0) + 1);
    cache.rows.delete(id);
  };
  const cached: Partial<Repository> = {
    getPool: (id) => read(pools, id, () => repo.getPool(id)),
    getClient: (id) => read(clients, id, () => repo.getClient(id)),
    updatePool: async (id, patch, ifConfig) => { forget(pools, id); const done = await repo.updatePool(id, patch, ifConfig); forget(pools, id); return done; },
    deletePool: async (id) => { forget(pools, id); for (const c of clients.rows.keys()) forget(clients, c); return repo.deletePool(id); },
    updateClient: async (id, patch) => { forget(clients, id); await repo.updateClient(id, patch); forget(clients, id); },
    deleteClient: async (id) => { forget(clients, id); return repo.deleteClient(id); },
  };
  return Object.assign(Object.create(repo), cached) as Repository;
}
