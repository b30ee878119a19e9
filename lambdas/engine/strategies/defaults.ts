/** Defaults the strategies share, so the numbers docs/correctness.md explains live in one place. */
import type { StrategyDefaults } from './strategy.js';

/**
 * Timestamp cursors: no extra lag (the commit horizon already keeps H below open transactions and the current
 * instant), no lookback (the horizon makes re-reading unnecessary), and 15 s of margin for cursors an application
 * sets from its own clock.
 */
export const TIMESTAMP_DEFAULTS: StrategyDefaults = { lagSeconds: 0, lookbackSeconds: 0, clockSkewSeconds: 15 };

/** Strategies whose window is not a timestamp: lag and clock_skew do not apply. */
export const NO_CURSOR_DEFAULTS: StrategyDefaults = { lagSeconds: 0, lookbackSeconds: 0, clockSkewSeconds: 0 };
