/**
 * The daemon's hook for batched parsing of received datagrams: builds the
 * pooled parse engine from the parser settings, or nothing when the pool is
 * off. Pass the result to `TransportLayer` as `engine` and close it after
 * the layer.
 */
import type { ParseEngine } from '../wasm/engine.js';
import type { ParserLimits } from '../wasm/parser.js';
import { createPooledEngine, type PooledEngineOptions } from '../pool/pool.js';

/** The parser settings the hook reads (the shape of the daemon config's `parser` section). */
export interface ReceiveEngineConfig {
  /** Parse UDP datagrams in a worker pool, in batches. */
  pool: boolean;
  /** Worker threads of the pool. */
  poolThreads: number;
  /** Parser limits: the same as the inline parser's, so both paths answer alike. */
  maxMessageBytes?: number;
  maxHeaders?: number;
  maxLineBytes?: number;
}

/**
 * @param config  parser settings (`pool: false` → undefined)
 * @param extra   pool options beyond the config (`workerUrl` when running from sources, `maxQueue`)
 * @return the pooled engine (its threads start at once), or undefined when the pool is off
 */
export function createReceiveEngine(
  config: ReceiveEngineConfig, extra: Pick<PooledEngineOptions, 'workerUrl' | 'maxQueue' | 'module'> = {},
): ParseEngine | undefined {
  if (!config.pool) return undefined;
  const limits: ParserLimits = {};
  if (config.maxMessageBytes !== undefined) limits.maxMessageBytes = config.maxMessageBytes;
  if (config.maxHeaders !== undefined) limits.maxHeaders = config.maxHeaders;
  if (config.maxLineBytes !== undefined) limits.maxLineBytes = config.maxLineBytes;
  return createPooledEngine({ ...extra, threads: config.poolThreads, limits });
}
