/**
 * Route selection with the expression `$request.body.action`, as the stack configures it: a frame that is a JSON
 * object whose `action`, stringified when it is not a string (`5` → "5", `true` → "true", an object → its JSON),
 * names a custom route goes to that route; anything else (not JSON, not an object, no action, an action naming no
 * route) goes to `$default`.
 */

export const CONNECT_ROUTE = '$connect';
export const DISCONNECT_ROUTE = '$disconnect';
export const DEFAULT_ROUTE = '$default';

/** True for the predefined route keys, which a frame can never select. */
export function isPredefinedRoute(routeKey: string): boolean {
  return routeKey === CONNECT_ROUTE || routeKey === DISCONNECT_ROUTE || routeKey === DEFAULT_ROUTE;
}

export function selectRoute(body: string, routeKeys: ReadonlySet<string>): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return DEFAULT_ROUTE;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return DEFAULT_ROUTE;
  const value = (parsed as Record<string, unknown>)['action'];
  if (value === undefined) return DEFAULT_ROUTE;
  const action = typeof value === 'string' ? value : JSON.stringify(value);
  if (isPredefinedRoute(action) || !routeKeys.has(action)) return DEFAULT_ROUTE;
  return action;
}
