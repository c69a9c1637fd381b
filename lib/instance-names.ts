/**
 * The names a ChatBackend gives what must differ between two backends in one account: the handlers' service name
 * (the `service` dimension of their metrics, which the dashboard and alarms read), the dashboard's name (unique per
 * account) and the labels of the API, the alarms and the alarm topic.
 *
 * The first ChatBackend of a stack is named after the stack, as in every earlier release, so an upgrade keeps its
 * metric history and dashboard; each further one in the same stack adds its path in the stack (`<stack>-<path>`).
 * Adding a second backend therefore renames nothing of the first. Explicit `serviceName`/`dashboardName` props win,
 * and a synth-time check refuses two backends of one stack that would still share either.
 */
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

export interface InstanceNames {
  /** `<stack>` for the stack's first backend, `<stack>-<path in the stack>` for the others. */
  readonly base: string;
  /** POWERTOOLS_SERVICE_NAME and the metrics' `service` dimension. */
  readonly serviceName: string;
  readonly dashboardName: string;
}

const BACKENDS = new WeakMap<Stack, { readonly backend: Construct; readonly names: InstanceNames }[]>();

/** Registers a backend in its stack and names it; call once per backend, in its constructor. */
export function nameInstance(
  backend: Construct,
  explicit: { serviceName?: string; dashboardName?: string },
): InstanceNames {
  const stack = Stack.of(backend);
  const siblings = BACKENDS.get(stack) ?? [];
  const path = backend.node.path.slice(stack.node.path.length + 1).replace(/[^A-Za-z0-9_-]+/g, '-');
  const base = siblings.length === 0 ? stack.stackName : `${stack.stackName}-${path}`;
  const names = {
    base,
    serviceName: explicit.serviceName ?? base,
    dashboardName: explicit.dashboardName ?? `${base}-${stack.region}`,
  };
  BACKENDS.set(stack, [...siblings, { backend, names }]);
  backend.node.addValidation({ validate: () => clashes(stack, backend, names) });
  return names;
}

/** What this backend shares with an earlier one of its stack (compared resolved: the region may be a token). */
function clashes(stack: Stack, backend: Construct, names: InstanceNames): string[] {
  const resolved = (value: string) => JSON.stringify(stack.resolve(value));
  const errors: string[] = [];
  for (const other of BACKENDS.get(stack) ?? []) {
    if (other.backend === backend) break;
    for (const key of ['serviceName', 'dashboardName'] as const) {
      if (resolved(other.names[key]) === resolved(names[key])) {
        errors.push(
          `ChatBackend: ${key} "${names[key]}" is also ${other.backend.node.path}'s; give each ChatBackend of a stack its own ${key}`,
        );
      }
    }
  }
  return errors;
}
