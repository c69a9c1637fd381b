/**
 * The handlers' metrics and logs carry the service name the stack gives them (POWERTOOLS_SERVICE_NAME, the stack
 * name by default), so two stacks in one account never sum each other's metrics or fire each other's alarms.
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
