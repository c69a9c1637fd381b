/**
 * Runs the $connect Lambda REQUEST authorizer and turns its answer into what API Gateway does with it:
 * a thrown `Unauthorized` is 401, a policy that does not allow the method ARN is 403, anything malformed is 500,
 * and an allow hands the stringified context to every later route of the connection.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import type { AuthorizerHandler, IntegrationAuthorizerContext } from './types.js';

export type AuthorizerOutcome =
  | { readonly kind: 'allow'; readonly context: IntegrationAuthorizerContext }
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'error'; readonly reason: string };

export async function runAuthorizer(
  authorizer: AuthorizerHandler,
  event: APIGatewayRequestAuthorizerEvent,
  context: Context,
): Promise<AuthorizerOutcome> {
  const started = Date.now();
  let result: APIGatewayAuthorizerResult;
  try {
    result = await authorizer(event, context);
  } catch (error) {
    if (error instanceof Error && error.message === 'Unauthorized') return { kind: 'unauthorized' };
    return { kind: 'error', reason: `authorizer threw: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!result || typeof result !== 'object') return { kind: 'error', reason: 'authorizer returned no result' };
  if (typeof result.principalId !== 'string') return { kind: 'error', reason: 'authorizer result has no principalId' };
  const effect = evaluatePolicy(result, event.methodArn);
  if (effect === 'invalid') return { kind: 'error', reason: 'authorizer result has no valid policyDocument' };
  if (effect !== 'Allow') return { kind: 'forbidden' };
  const stringified = stringifyContext(result.context);
  if (stringified === undefined) {
    return { kind: 'error', reason: 'authorizer context values must be strings, numbers or booleans' };
  }
  return {
    kind: 'allow',
    context: { ...stringified, principalId: result.principalId, integrationLatency: Date.now() - started },
  };
}

/** API Gateway passes context values on as strings ("123", "true"); objects and arrays are a 500. */
export function stringifyContext(
  context: APIGatewayAuthorizerResult['context'],
): Record<string, string | null> | undefined {
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(context ?? {})) {
    if (value === undefined) continue;
    if (value === null) out[key] = null;
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[key] = String(value);
    else return undefined;
  }
  return out;
}

/** IAM-style evaluation of the returned policy for one method ARN: an explicit Deny wins, then an Allow. */
export function evaluatePolicy(result: APIGatewayAuthorizerResult, methodArn: string): 'Allow' | 'Deny' | 'invalid' {
  const document = result.policyDocument as unknown;
  if (!document || typeof document !== 'object') return 'invalid';
  const rawStatements = (document as { Statement?: unknown }).Statement;
  const statements = Array.isArray(rawStatements) ? rawStatements : rawStatements ? [rawStatements] : [];
  if (statements.length === 0) return 'invalid';
  let allowed = false;
  for (const statement of statements as Record<string, unknown>[]) {
    const effect = statement['Effect'];
    if (effect !== 'Allow' && effect !== 'Deny') return 'invalid';
    const actionMatches = asList(statement['Action']).some((pattern) => globMatch(pattern, 'execute-api:Invoke'));
    const resourceMatches = asList(statement['Resource']).some((pattern) => globMatch(pattern, methodArn));
    if (!actionMatches || !resourceMatches) continue;
    if (effect === 'Deny') return 'Deny';
    allowed = true;
  }
  return allowed ? 'Allow' : 'Deny';
}

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** IAM wildcards: `*` any run of characters, `?` one character; action names compare case-insensitively. */
function globMatch(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, value.startsWith('execute-api:') ? 'i' : '').test(value);
}
