/**
 * What a synthesized CDK app's template says about one API Gateway WebSocket API, in the emulator's terms: the
 * route selection expression, the stage, each route's Lambda function (through its AWS_PROXY integration) and
 * whether it is two-way (a `$default` route response), the $connect REQUEST authorizer and its identity sources,
 * each function's code folder, handler, timeout and environment (intrinsics resolved locally), and the DynamoDB
 * tables to create. Anything the emulator cannot serve is reported as a warning, not silently dropped.
 */
import { join, resolve } from 'node:path';
import type { AssemblyStack, TemplateResource } from './assembly.js';
import { resolveString, resolveValue, type LocalIdentity, type ResolveContext } from './intrinsics.js';

export interface FunctionSpec {
  readonly logicalId: string;
  /** The local function name (FunctionName, else `{stack}-{logicalId}`). */
  readonly name: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  /** e.g. `nodejs22.x`. */
  readonly runtime: string;
  /** The staged asset folder; absent for inline code. */
  readonly codeDirectory?: string;
  /** `Code.ZipFile` (inline code). */
  readonly inlineCode?: string;
  /** Environment.Variables, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  /** Lambda's Timeout. @default 3 */
  readonly timeoutSeconds: number;
  /** Lambda's MemorySize. @default 128 */
  readonly memoryMb: number;
}

export interface TableSpec {
  readonly logicalId: string;
  /** The local table name (TableName, else `{stack}-{logicalId}`), with the prefix. */
  readonly name: string;
  readonly type: 'AWS::DynamoDB::Table' | 'AWS::DynamoDB::GlobalTable';
  /** The resource's properties, resolved. */
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface RouteSpec {
  readonly routeKey: string;
  readonly functionLogicalId: string;
  /** A `$default` route response: the integration's answer goes back to the client. */
  readonly twoWay: boolean;
}

export interface WebSocketAppModel {
  readonly stackName: string;
  readonly apiLogicalId: string;
  readonly apiName: string;
  /** The id the emulator reports in events, also the host part local endpoints replace. */
  readonly apiId: string;
  readonly region: string;
  readonly accountId: string;
  readonly routeSelectionExpression: string;
  readonly stage: string;
  readonly routes: readonly RouteSpec[];
  readonly authorizer?: { readonly functionLogicalId: string; readonly identitySources: readonly string[] };
  readonly functions: ReadonlyMap<string, FunctionSpec>;
  readonly tables: readonly TableSpec[];
  readonly warnings: readonly string[];
}

export interface ModelOptions {
  readonly apiId: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Prefix of every local table name. @default '' */
  readonly tablePrefix?: string;
  /** Which WebSocket API, by logical id, when the app has several. */
  readonly apiLogicalId?: string;
  /** Which stage, when the API has several. @default - the first */
  readonly stage?: string;
}

/** The template has no WebSocket API to serve, or several and no choice was made. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
}

const TABLE_TYPES = new Set(['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable']);

/** The WebSocket APIs of an assembly: `{stack, logicalId}`. */
export function webSocketApis(stacks: readonly AssemblyStack[]): { stack: AssemblyStack; logicalId: string }[] {
  return stacks.flatMap((stack) =>
    Object.entries(stack.template.Resources ?? {})
      .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties?.['ProtocolType'] === 'WEBSOCKET')
      .map(([logicalId]) => ({ stack, logicalId })),
  );
}

export function webSocketAppModel(stacks: readonly AssemblyStack[], options: ModelOptions): WebSocketAppModel {
  const { stack, logicalId: apiLogicalId } = chooseApi(stacks, options.apiLogicalId);
  const resources = stack.template.Resources ?? {};
  const warnings: string[] = [];
  const context = resolveContext(stack, options, warnings);
  const ofType = (type: string) =>
    Object.entries(resources).filter(([, r]) => r.Type === type && refersTo(r, apiLogicalId, context));
  const api = resources[apiLogicalId]!;
  const functionByArn = new Map(
    [...context.resources]
      .filter(([id]) => resources[id]?.Type === 'AWS::Lambda::Function')
      .map(([id, identity]) => [identity.attributes!['Arn']!, id]),
  );
  const functionOf = (uri: unknown, what: string): string | undefined => {
    const arn = /functions\/(arn:aws:lambda:[^/]+)\/invocations/
      .exec(resolveString(uri, context))?.[1]
      ?.split(':')
      .slice(0, 7)
      .join(':');
    const fn = arn === undefined ? undefined : functionByArn.get(arn);
    if (!fn) warnings.push(`${what}: its integration is not a Lambda function of this stack; it is not served`);
    return fn;
  };
  const routes = readRoutes(ofType, resources, context, functionOf, warnings);
  const authorizer = readAuthorizer(ofType, functionOf, warnings);
  const stages = ofType('AWS::ApiGatewayV2::Stage').map(([, r]) => resolveString(r.Properties?.['StageName'], context));
  const stage = options.stage ?? stages[0] ?? '$default';
  if (options.stage !== undefined && !stages.includes(options.stage))
    warnings.push(`stage ${options.stage} is not in the template (${stages.join(', ') || 'none'})`);
  const used = new Set([
    ...routes.map((r) => r.functionLogicalId),
    ...(authorizer ? [authorizer.functionLogicalId] : []),
  ]);
  return {
    stackName: stack.stackName,
    apiLogicalId,
    apiName: resolveString(api.Properties?.['Name'] ?? apiLogicalId, context),
    apiId: options.apiId,
    region: context.region,
    accountId: context.accountId,
    routeSelectionExpression: resolveString(
      api.Properties?.['RouteSelectionExpression'] ?? '$request.body.action',
      context,
    ),
    stage,
    routes,
    ...(authorizer ? { authorizer } : {}),
    functions: new Map([...used].map((id) => [id, functionSpec(stack, id, resources[id]!, context, warnings)])),
    tables: Object.entries(resources)
      .filter(([, r]) => TABLE_TYPES.has(r.Type))
      .map(([id, r]) => ({
        logicalId: id,
        name: context.resources.get(id)!.ref,
        type: r.Type as TableSpec['type'],
        properties: resolveValue(r.Properties ?? {}, context) as Record<string, unknown>,
      })),
    warnings,
  };
}

function chooseApi(
  stacks: readonly AssemblyStack[],
  wanted: string | undefined,
): { stack: AssemblyStack; logicalId: string } {
  const apis = webSocketApis(stacks);
  const names = apis.map((a) => `${a.stack.stackName}/${a.logicalId}`).join(', ');
  if (wanted !== undefined) {
    const found = apis.find((a) => a.logicalId === wanted || `${a.stack.stackName}/${a.logicalId}` === wanted);
    if (!found) throw new ModelError(`no WebSocket API ${wanted} in the app (it has: ${names || 'none'})`);
    return found;
  }
  if (apis.length === 0)
    throw new ModelError(
      'the app has no API Gateway WebSocket API (AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET)',
    );
  if (apis.length > 1)
    throw new ModelError(`the app has several WebSocket APIs (${names}): choose one with --api <logicalId>`);
  return apis[0]!;
}

/** The local identities (names, ARNs, ids) of the stack's resources, for Ref and Fn::GetAtt. */
function resolveContext(stack: AssemblyStack, options: ModelOptions, warnings: string[]): ResolveContext {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const resources = new Map<string, LocalIdentity>();
  const reported = new Set<string>();
  const context: ResolveContext = {
    region,
    accountId,
    stackName: stack.stackName,
    resources,
    parameters: new Map(
      Object.entries(stack.template.Parameters ?? {}).map(([name, p]) => [name, String(p.Default ?? '')]),
    ),
    conditions: stack.template.Conditions ?? {},
    unresolved: (what) => {
      if (!reported.has(what)) warnings.push(`cannot resolve ${what} locally; left as a placeholder`);
      reported.add(what);
    },
  };
  const localName = (logicalId: string, given: unknown, max: number) =>
    given === undefined ? `${stack.stackName}-${logicalId}`.slice(0, max) : resolveString(given, context);
  for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
    const props = resource.Properties ?? {};
    if (TABLE_TYPES.has(resource.Type)) {
      const name = `${options.tablePrefix ?? ''}${localName(logicalId, props['TableName'], 255)}`;
      const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      resources.set(logicalId, { ref: name, attributes: { Arn: arn, StreamArn: `${arn}/stream/local` } });
    } else if (resource.Type === 'AWS::Lambda::Function') {
      const name = localName(logicalId, props['FunctionName'], 64);
      resources.set(logicalId, {
        ref: name,
        attributes: { Arn: `arn:aws:lambda:${region}:${accountId}:function:${name}` },
      });
    } else if (resource.Type === 'AWS::ApiGatewayV2::Api') {
      const id = options.apiId;
      resources.set(logicalId, {
        ref: id,
        attributes: { ApiId: id, ApiEndpoint: `wss://${id}.execute-api.${region}.amazonaws.com` },
      });
    } else if (resource.Type === 'AWS::ApiGatewayV2::Stage') {
      resources.set(logicalId, { ref: resolveString(props['StageName'], context) });
    } else {
      resources.set(logicalId, { ref: logicalId });
    }
  }
  return context;
}

function refersTo(resource: TemplateResource, apiLogicalId: string, context: ResolveContext): boolean {
  return resolveString(resource.Properties?.['ApiId'], context) === context.resources.get(apiLogicalId)?.ref;
}

type OfType = (type: string) => [string, TemplateResource][];

function readRoutes(
  ofType: OfType,
  resources: Readonly<Record<string, TemplateResource>>,
  context: ResolveContext,
  functionOf: (uri: unknown, what: string) => string | undefined,
  warnings: string[],
): RouteSpec[] {
  const twoWayRoutes = new Set(
    ofType('AWS::ApiGatewayV2::RouteResponse')
      .filter(([, r]) => r.Properties?.['RouteResponseKey'] === '$default')
      .map(([, r]) => resolveString(r.Properties?.['RouteId'], context)),
  );
  const routes: RouteSpec[] = [];
  for (const [logicalId, route] of ofType('AWS::ApiGatewayV2::Route')) {
    const props = route.Properties ?? {};
    const routeKey = resolveString(props['RouteKey'], context);
    if (props['AuthorizationType'] === 'AWS_IAM')
      warnings.push(`route ${routeKey}: AWS_IAM authorization is not checked locally`);
    const integrationId = /^integrations\/(.+)$/.exec(resolveString(props['Target'] ?? '', context))?.[1];
    const integration = integrationId === undefined ? undefined : resources[integrationId];
    if (!integration || integration.Properties?.['IntegrationType'] !== 'AWS_PROXY') {
      warnings.push(`route ${routeKey}: only Lambda proxy (AWS_PROXY) integrations are served; this route is not`);
      continue;
    }
    const functionLogicalId = functionOf(integration.Properties?.['IntegrationUri'], `route ${routeKey}`);
    if (!functionLogicalId) continue;
    const twoWay = props['RouteResponseSelectionExpression'] !== undefined || twoWayRoutes.has(logicalId);
    routes.push({ routeKey, functionLogicalId, twoWay });
  }
  return routes;
}

function readAuthorizer(
  ofType: OfType,
  functionOf: (uri: unknown, what: string) => string | undefined,
  warnings: string[],
): WebSocketAppModel['authorizer'] {
  const authorizers = ofType('AWS::ApiGatewayV2::Authorizer');
  if (authorizers.length === 0) return undefined;
  const [logicalId, authorizer] = authorizers[0]!;
  if (authorizer.Properties?.['AuthorizerType'] !== 'REQUEST') {
    warnings.push(
      `authorizer ${logicalId}: only Lambda REQUEST authorizers are run locally; connections are not authorized`,
    );
    return undefined;
  }
  const functionLogicalId = functionOf(authorizer.Properties?.['AuthorizerUri'], `authorizer ${logicalId}`);
  if (!functionLogicalId) return undefined;
  const sources = authorizer.Properties?.['IdentitySource'];
  return { functionLogicalId, identitySources: Array.isArray(sources) ? sources.map(String) : [] };
}

function functionSpec(
  stack: AssemblyStack,
  logicalId: string,
  resource: TemplateResource,
  context: ResolveContext,
  warnings: string[],
): FunctionSpec {
  const props = resource.Properties ?? {};
  const runtime = String(props['Runtime'] ?? '');
  const assetPath = resource.Metadata?.['aws:asset:path'];
  const code = (props['Code'] ?? {}) as Record<string, unknown>;
  if (!runtime.startsWith('nodejs'))
    warnings.push(
      `function ${logicalId}: runtime ${runtime || '(a container image)'} is not run locally, only Node.js`,
    );
  if (Array.isArray(props['Layers']) && props['Layers'].length > 0)
    warnings.push(`function ${logicalId}: layers are not loaded locally`);
  const variables = ((props['Environment'] as Record<string, unknown> | undefined)?.['Variables'] ?? {}) as Record<
    string,
    unknown
  >;
  return {
    logicalId,
    name: context.resources.get(logicalId)!.ref,
    handler: String(props['Handler'] ?? 'index.handler'),
    runtime,
    ...(typeof assetPath === 'string' ? { codeDirectory: resolve(join(stack.directory, assetPath)) } : {}),
    ...(typeof code['ZipFile'] === 'string' ? { inlineCode: code['ZipFile'] } : {}),
    environment: Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, resolveString(value, context)]),
    ),
    timeoutSeconds: Number(props['Timeout'] ?? 3),
    memoryMb: Number(props['MemorySize'] ?? 128),
  };
}
