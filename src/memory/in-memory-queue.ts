import { EngineQueue } from "../engine/engine-queue.js";
import {
  COMMON_KEYS,
  type CommonQueueOptions,
  parseCommonOptions,
  type RetentionOptions,
} from "../engine/queue-options.js";
import { objectOption, rejectUnknownKeys } from "../validate.js";
import { MemoryStore } from "./memory-store.js";

export type { RetentionOptions };

/** Options of {@link InMemoryQueue}. */
export interface InMemoryQueueOptions extends CommonQueueOptions {}

/**
 * The embedded queue: jobs live in this process's memory and run on its
 * worker-thread pool. Fast, no dependency; jobs are lost when the process ends.
 */
export class InMemoryQueue extends EngineQueue {
  readonly backend = "memory" as const;
  readonly #threads: number;

  constructor(options: InMemoryQueueOptions = {}) {
    const o = objectOption("options", options) ?? {};
    rejectUnknownKeys("", o, COMMON_KEYS);
    const parsed = parseCommonOptions(o);
    super(
      (sink, timers) =>
        new MemoryStore(
          {
            maxAgeMs: parsed.retention.maxAgeMs,
            maxCount: parsed.retention.maxCount,
            maxPayloadBytes: parsed.maxPayloadBytes,
            maxLogLines: parsed.maxLogLines,
            logger: parsed.logger,
            threads: parsed.threads,
          },
          sink,
          timers,
        ),
      { executor: parsed.executor, process: true, logger: parsed.logger },
    );
    this.#threads = parsed.threads;
  }

  /** Worker threads the pool grows to (whether or not it started yet). */
  get threads(): number {
    return this.#threads;
  }
}
