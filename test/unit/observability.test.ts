/**
 * The handlers' metrics and logs carry the service name the stack gives them (POWERTOOLS_SERVICE_NAME, the stack
 * name by default), so two stacks in one account never sum each other's metrics or fire each other's alarms; and each
 * log line carries the keys of its own invocation, however invocations overlap.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

async function freshObservability(env: Record<string, string | undefined>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return import('../../core/observability.js');
}

describe('service name', () => {
  it('is POWERTOOLS_SERVICE_NAME when the stack sets it', async () => {
    const { metrics, METRIC } = await freshObservability({ POWERTOOLS_SERVICE_NAME: 'ChatStaging' });
    metrics.addMetric(METRIC.deliveries, 'Count', 1);
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    metrics.clearMetrics();
    expect(emf['service']).toBe('ChatStaging');
    expect(JSON.stringify(emf['_aws'])).toContain('"service"');
  });

  it('falls back to the package name locally, where nothing sets it', async () => {
    const { metrics, METRIC, SERVICE_NAME } = await freshObservability({ POWERTOOLS_SERVICE_NAME: undefined });
    metrics.addMetric(METRIC.deliveries, 'Count', 1);
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown>;
    metrics.clearMetrics();
    expect(emf['service']).toBe(SERVICE_NAME);
  });
});

describe('log keys', () => {
  it('stay with the invocation that set them when two invocations overlap', async () => {
    const { logger, observed } = await import('../../core/observability.js');
    const lines: string[] = [];
    const capture = (chunk: unknown) => (lines.push(String(chunk)), true);
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    logger.setLogLevel('INFO');
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    };
    const aWaits = gate();
    const bWaits = gate();
    const aEnded = gate();
    // A logs, waits while B starts and logs, logs again and ends; B logs once more after A ended.
    const handler = observed(
      async (event: { connectionId: string }) => {
        logger.info('first');
        if (event.connectionId === 'A') {
          aWaits.open();
          await bWaits.opened;
        } else {
          logger.appendKeys({ msgId: 7 });
          bWaits.open();
          await aEnded.opened;
        }
        logger.info('second');
      },
      (event) => ({ connectionId: event.connectionId }),
    );
    try {
      const a = handler({ connectionId: 'A' });
      await aWaits.opened;
      const b = handler({ connectionId: 'B' });
      await a;
      aEnded.open();
      await b;
    } finally {
      logger.setLogLevel('SILENT');
      vi.restoreAllMocks();
    }
    const logged = lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .map(({ message, connectionId, msgId }) => ({ message, connectionId, msgId }));
    expect(logged).toEqual([
      { message: 'first', connectionId: 'A', msgId: undefined },
      { message: 'first', connectionId: 'B', msgId: undefined },
      { message: 'second', connectionId: 'A', msgId: undefined },
      { message: 'second', connectionId: 'B', msgId: 7 },
    ]);
  });
});
