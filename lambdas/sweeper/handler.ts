/** EventBridge schedule: one sweep of overdue deliveries. */
import { logger } from '../../core/observability.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { sweep, type SweepStats } from '../../core/usecases/sweep.js';

export function createSweeperHandler(runtime: Runtime) {
  return async (): Promise<SweepStats> => {
    const stats = await sweep(runtime);
    if (stats.overdue > 0) logger.info('sweep', { ...stats });
    return stats;
  };
}

export const handler = createSweeperHandler(createRuntime());
