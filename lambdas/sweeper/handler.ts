/** EventBridge schedule: one sweep of overdue deliveries. */
import { METRIC, count, logger, observed } from '../../core/observability.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { sweep, type SweepStats } from '../../core/usecases/sweep.js';

export function createSweeperHandler(runtime: Runtime) {
  return observed(async (): Promise<SweepStats> => {
    const stats = await sweep(runtime);
    count(METRIC.redeliveries, stats.redelivered);
    count(METRIC.deliveriesGivenUp, stats.gaveUp);
    count(METRIC.goneConnections, stats.gone);
    count(METRIC.deliveriesDeferred, stats.deferred);
    if (stats.overdue > 0) logger.info('sweep', { ...stats });
    return stats;
  }, () => ({ routeKey: 'sweep' }));
}

export const handler = createSweeperHandler(createRuntime());
