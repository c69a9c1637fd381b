/** The final phase: let sends settle, stop faults, reconnect everyone, drain redeliveries, catch up. */
import { scanAll, sleep, until } from './common.js';
import type { Run } from './context.js';
import type { Device } from './devices.js';
import type { ChaosStack } from './stack.js';
import type { Workload } from './workload.js';

export interface Settled {
  /** Devices whose final catch-up kept failing, with the last error. */
  readonly syncFailures: readonly string[];
  /** Route invocations still running when the checks start. */
  readonly stillRunning: number;
}

export async function settle(run: Run, devices: readonly Device[], workload: Workload): Promise<Settled> {
  const { log, plan, stack } = run;
  const settleTimeoutMs = run.options.settleTimeoutMs ?? 90_000;
  const { inFlight } = workload;
  await until(() => inFlight.size === 0, settleTimeoutMs / 3);
  plan.enabled = false;
  log(`faults off (${inFlight.size} sends still waiting); reconnecting every device`);
  await until(() => devices.every((d) => !d.closed), 5_000);
  await Promise.all(devices.map((d) => d.client.connect().catch(() => undefined)));
  workload.sendDeadline = Date.now() + settleTimeoutMs / 3;
  await until(() => inFlight.size === 0, settleTimeoutMs / 3);
  const pendingTable = stack.tables.PendingDeliveries;
  const drained = await until(async () => (await scanAll(run.db, pendingTable)).length === 0, settleTimeoutMs / 3, 500);
  log(
    `sends settled (${inFlight.size} unsettled); pending deliveries ${drained ? 'drained' : 'NOT drained'}; final catch-up`,
  );
  // Route invocations first: one still running (slowed by SDK backoff) may store a message after a catch-up read.
  const stillRunning = await routeInvocationsLeft(stack);
  const syncFailures = await finalCatchUp(devices);
  return { syncFailures, stillRunning };
}

async function finalCatchUp(devices: readonly Device[]): Promise<string[]> {
  const syncFailures: string[] = [];
  await Promise.all(
    devices.map(async (d) => {
      // Two runs: the first may be one an open started earlier (sync() joins it); the second starts afresh.
      for (let run = 0, complete = 0; run < 6 && complete < 2; run++) {
        try {
          if ((await d.client.sync()).complete) complete++;
        } catch (error) {
          if (run === 5) syncFailures.push(`${d.name}: ${(error as Error).message}`);
          await sleep(500);
        }
      }
    }),
  );
  return syncFailures;
}

/** Waits for route invocations to end, and counts those that did not. */
async function routeInvocationsLeft(stack: ChaosStack): Promise<number> {
  // Invocations slowed by SDK backoff may still be running (a first attempt whose resend was acked long ago).
  const routeInvocationsRunning = () =>
    [...stack.invocations.running].reduce((n, [route, c]) => n + (route === 'sweeper' ? 0 : c), 0);
  await until(() => routeInvocationsRunning() === 0, 30_000);
  await sleep(300);
  return routeInvocationsRunning();
}
