/** EventBridge schedule: one sweep of due deliveries, fan-outs and token expiries, within the Lambda's time. */
import type { Context } from 'aws-lambda';
import { METRIC, count, logger, observed } from '../../core/observability.js';
import { createRuntime, type Runtime } from '../../core/runtime.js';
import { sweep, type SweepStats } from '../../core/usecases/sweep.js';

/** Time kept back from the Lambda timeout: the page in progress finishes and the run ends cleanly. */
const SWEEP_SAFETY_MS = 15_000;

export function createSweeperHandler(runtime: Runtime) {
  return observed(
    async (_event: unknown, context?: Context): Promise<SweepStats> => {
      const remaining = context?.getRemainingTimeInMillis?.();
      const stats = await sweep(
        runtime,
        remaining === undefined ? {} : { deadline: runtime.clock.now() + remaining - SWEEP_SAFETY_MS },
      );
      count(METRIC.redeliveries, stats.redelivered);
      count(METRIC.deliveriesGivenUp, stats.gaveUp);
      count(METRIC.goneConnections, stats.gone);
      count(METRIC.deliveriesDeferred, stats.deferred);
      if (stats.due > 0 || !stats.complete) logger.info('sweep', { ...stats });
      return stats;
    },
    () => ({ routeKey: 'sweep' }),
  );
}

export const handler = createSweeperHandler(createRuntime());
