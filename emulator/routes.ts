/**
 * Route selection as API Gateway does it for WebSocket APIs: the API's route selection expression (default
 * `$request.body.action`) is evaluated against each JSON message; a route whose key equals the result gets the
 * message, anything else (not JSON, a variable the message does not have, no route with that key) goes to
 * `$default`. The expression language is AWS's: `$request.body.path` or `${request.body.path}` variables (a path of
 * members and `[index]`es), literal text between them, `\$` for a dollar sign.
 *
 * A value that is not a string is stringified first, the way AWS's documentation shows ("an array with two elements
 * is presented as the string `[item1, item2]`"): numbers, booleans and null as their JSON text, arrays as
 * `[a, b]`, objects as `{key=value, …}` (AWS documents no object example; this is the same Java-collection style).
 * The stringification stops as soon as it is longer than the longest route key, so no message, however deeply
 * nested, costs more than that many characters of work, and nothing here can throw.
 */

export const CONNECT_ROUTE = '$connect';
export const DISCONNECT_ROUTE = '$disconnect';
export const DEFAULT_ROUTE = '$default';

/** The expression of every WebSocket API the CDK and the console create unless told otherwise. */
export const DEFAULT_ROUTE_SELECTION_EXPRESSION = '$request.body.action';

/** True for the predefined route keys, which a frame can never select. */
export function isPredefinedRoute(routeKey: string): boolean {
  return routeKey === CONNECT_ROUTE || routeKey === DISCONNECT_ROUTE || routeKey === DEFAULT_ROUTE;
}

/** A route selection expression the emulator cannot evaluate (only `request.body` variables exist for messages). */
export class UnsupportedSelectionExpressionError extends Error {
  override readonly name = 'UnsupportedSelectionExpressionError';
}

type Part = { readonly literal: string } | { readonly path: readonly (string | number)[] };

/** Compiles an expression into a function from a message body to its route key. */
export function routeSelector(expression: string, routeKeys: Iterable<string>): (body: string) => string {
  const parts = parseExpression(expression);
  const custom = new Set([...routeKeys].filter((key) => !isPredefinedRoute(key)));
  const budget = Math.max(0, ...[...custom].map((key) => key.length));
  return (body) => {
    const key = evaluate(parts, body, budget);
    return key !== undefined && custom.has(key) ? key : DEFAULT_ROUTE;
  };
}

function evaluate(parts: readonly Part[], body: string, budget: number): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  let key = '';
  for (const part of parts) {
    if ('literal' in part) key += part.literal;
    else {
      const value = lookup(parsed, part.path);
      if (value === undefined) return undefined;
      const text = stringify(value, budget - key.length);
      if (text === undefined) return undefined;
      key += text;
    }
    if (key.length > budget) return undefined;
  }
  return key;
}

function lookup(root: unknown, path: readonly (string | number)[]): unknown {
  let value = root;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return undefined;
    if (typeof step === 'number' ? !Array.isArray(value) : Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string | number, unknown>)[step];
  }
  return value;
}

/** The value as API Gateway's key text, or undefined once it is longer than `budget` characters. */
function stringify(value: unknown, budget: number): string | undefined {
  if (budget < 0) return undefined;
  if (typeof value === 'string') return value.length <= budget ? value : undefined;
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text.length <= budget ? text : undefined;
  }
  const entries: [string | undefined, unknown][] = Array.isArray(value)
    ? value.map((item) => [undefined, item])
    : Object.entries(value).map(([k, v]) => [k, v]);
  let text = Array.isArray(value) ? '[' : '{';
  for (const [index, [name, item]] of entries.entries()) {
    if (index > 0) text += ', ';
    if (name !== undefined) text += `${name}=`;
    const inner = stringify(item, budget - text.length - 1);
    if (inner === undefined) return undefined;
    text += inner;
    if (text.length >= budget) return undefined;
  }
  text += Array.isArray(value) ? ']' : '}';
  return text.length <= budget ? text : undefined;
}

/** `$request.body.a.b[0]`, `${request.body.a}`, literal text and `\$` escapes. */
function parseExpression(expression: string): Part[] {
  const parts: Part[] = [];
  const variable = /\\\$|\$\{([^}]*)\}|\$([A-Za-z_][\w.[\]-]*)/g;
  let last = 0;
  for (const match of expression.matchAll(variable)) {
    if (match.index > last) parts.push({ literal: expression.slice(last, match.index) });
    last = match.index + match[0].length;
    if (match[0] === '\\$') parts.push({ literal: '$' });
    else parts.push({ path: bodyPath(expression, (match[1] ?? match[2])!) });
  }
  if (last < expression.length) parts.push({ literal: expression.slice(last) });
  return parts;
}

function bodyPath(expression: string, name: string): (string | number)[] {
  const match = /^request\.body((?:\.[A-Za-z_$][\w$-]*|\[\d+\])*)$/.exec(name);
  if (!match) {
    throw new UnsupportedSelectionExpressionError(
      `route selection expression ${JSON.stringify(expression)}: only $request.body.<path> variables select WebSocket routes`,
    );
  }
  return [...match[1]!.matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
}
