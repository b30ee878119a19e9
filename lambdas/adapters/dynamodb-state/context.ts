import type { RunStatus } from '../../ports/index.js';
import type { StateDb } from './db.js';

/** What every part of the store shares: the table and the clock used for every expiry check and timestamp. */
export interface StoreContext {
  db: StateDb;
  now: () => Date;
}

/** A run in one of these states has finished: it cannot be committed again or take more chunks. */
export const FINISHED: readonly RunStatus[] = ['committed', 'failed', 'cleaned'];
