/** EventBridge schedule: one sweep of due deliveries, fan-outs and token expiries, within the Lambda's time. */
import type { Context } from 'aws-lambda';
import { METRIC, count, logger, observed } from '../../core/observability.js';
import type { Adapters } from '../../core/compose/adapters.js';
import { routePortsBase } from '../../core/compose/route-ports.js';
import {
  blockTable,
  connectionTable,
  conversationTable,
  groupTables,
  messageTable,
  pendingDeliveryTable,
  presenceTable,
  sessionTable,
} from '../../core/compose/dynamo.js';
import { eventBus } from '../../core/compose/events.js';
import { sweep, type SweepPorts, type SweepStats } from '../../core/usecases/sweep.js';

/** Time kept back from the Lambda timeout: the page in progress finishes and the run ends cleanly. */
const SWEEP_SAFETY_MS = 15_000;

/** DynamoDB, @connections (redeliveries, kicks) and EventBridge (deliveries given up go to the push hook): no S3. */
export function sweeperHandlerPorts(adapters: Adapters): SweepPorts {
  const { db, ...base } = routePortsBase(adapters);
  const { config } = base;
  return {
    ...base,
    events: eventBus(adapters),
    messages: messageTable(db, config),
    connections: connectionTable(db, config),
    presence: presenceTable(db, config),
    groups: groupTables(db, config),
    sessions: sessionTable(db, config),
    conversations: conversationTable(db, config),
    pending: pendingDeliveryTable(db, config),
    blocks: blockTable(db, config),
  };
}

export function createSweeperHandler(runtime: SweepPorts) {
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
