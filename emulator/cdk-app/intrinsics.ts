/**
 * CloudFormation's intrinsic functions, evaluated against the local deployment instead of AWS's: `Ref` of a table
 * is its local table name, `Fn::GetAtt` of a function its local ARN, pseudo parameters the emulator's region and
 * account. Enough for what a CDK WebSocket app puts in its functions' environment and its API's wiring: Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If (with Fn::Equals, Fn::Not, Fn::And, Fn::Or
 * conditions), Fn::Base64 and parameters' defaults. What cannot be known locally (Fn::ImportValue, another
 * resource's attribute) becomes a visible placeholder and is reported, never a crash.
 */

/** What a Ref or Fn::GetAtt of a resource stands for locally. */
export interface LocalIdentity {
  /** The value of `Ref` (a table's name, a function's name, an API's id). */
  readonly ref: string;
  /** Attribute values (`Arn`, `StreamArn`, `ApiEndpoint`, …). */
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface ResolveContext {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  readonly resources: ReadonlyMap<string, LocalIdentity>;
  readonly parameters: ReadonlyMap<string, string>;
  readonly conditions: Readonly<Record<string, unknown>>;
  /** Told of each value that could not be resolved locally. */
  readonly unresolved: (what: string) => void;
}

export function resolveValue(value: unknown, context: ResolveContext): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, context));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && (entries[0]![0] === 'Ref' || entries[0]![0].startsWith('Fn::'))) {
    return intrinsic(entries[0]![0], entries[0]![1], context);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveValue(item, context)]));
}

/** A value resolved to a string (numbers and booleans as text, as Lambda environment variables are). */
export function resolveString(value: unknown, context: ResolveContext): string {
  const resolved = resolveValue(value, context);
  if (resolved === undefined) return '';
  return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
}

function intrinsic(name: string, argument: unknown, context: ResolveContext): unknown {
  switch (name) {
    case 'Ref':
      return ref(String(argument), context);
    case 'Fn::GetAtt':
      return getAtt(argument, context);
    case 'Fn::Join': {
      const [separator, items] = resolveValue(argument, context) as [string, unknown[]];
      return items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(separator);
    }
    case 'Fn::Sub':
      return sub(argument, context);
    case 'Fn::Select': {
      const [index, items] = resolveValue(argument, context) as [number | string, unknown[]];
      return items[Number(index)];
    }
    case 'Fn::Split': {
      const [separator, text] = resolveValue(argument, context) as [string, string];
      return String(text).split(separator);
    }
    case 'Fn::If': {
      const [condition, whenTrue, whenFalse] = argument as [string, unknown, unknown];
      return resolveValue(isTrue(condition, context) ? whenTrue : whenFalse, context);
    }
    case 'Fn::Base64':
      return Buffer.from(String(resolveValue(argument, context))).toString('base64');
    default:
      context.unresolved(`${name} ${JSON.stringify(argument).slice(0, 80)}`);
      return `unresolved:${name}`;
  }
}

const PSEUDO: Readonly<Record<string, (context: ResolveContext) => string>> = {
  'AWS::Region': (c) => c.region,
  'AWS::AccountId': (c) => c.accountId,
  'AWS::Partition': () => 'aws',
  'AWS::URLSuffix': () => 'amazonaws.com',
  'AWS::StackName': (c) => c.stackName,
  'AWS::StackId': (c) => `arn:aws:cloudformation:${c.region}:${c.accountId}:stack/${c.stackName}/local`,
  'AWS::NoValue': () => '',
};

function ref(name: string, context: ResolveContext): string {
  const pseudo = PSEUDO[name];
  if (pseudo) return pseudo(context);
  const resource = context.resources.get(name);
  if (resource) return resource.ref;
  const parameter = context.parameters.get(name);
  if (parameter !== undefined) return parameter;
  context.unresolved(`Ref ${name}`);
  return `unresolved:${name}`;
}

function getAtt(argument: unknown, context: ResolveContext): string {
  const [logicalId, attribute] =
    typeof argument === 'string' ? (argument.split('.', 2) as [string, string]) : (argument as [string, string]);
  const value = context.resources.get(logicalId)?.attributes?.[attribute];
  if (value !== undefined) return value;
  context.unresolved(`Fn::GetAtt ${logicalId}.${attribute}`);
  return `unresolved:${logicalId}.${attribute}`;
}

function sub(argument: unknown, context: ResolveContext): string {
  const [template, variables = {}] =
    typeof argument === 'string' ? [argument, {}] : (argument as [string, Record<string, unknown>]);
  return template.replace(/\$\{(!?)([^}]+)\}/g, (_whole, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    if (Object.hasOwn(variables, name)) return resolveString(variables[name], context);
    return name.includes('.') ? getAtt(name, context) : ref(name, context);
  });
}

function isTrue(condition: unknown, context: ResolveContext): boolean {
  if (typeof condition === 'string') return isTrue(context.conditions[condition], context);
  if (typeof condition === 'boolean') return condition;
  if (condition === null || typeof condition !== 'object') return false;
  const [[name, argument]] = Object.entries(condition) as [[string, unknown]];
  const args = argument as unknown[];
  switch (name) {
    case 'Fn::Equals':
      return JSON.stringify(resolveValue(args[0], context)) === JSON.stringify(resolveValue(args[1], context));
    case 'Fn::Not':
      return !isTrue(args[0], context);
    case 'Fn::And':
      return args.every((c) => isTrue(c, context));
    case 'Fn::Or':
      return args.some((c) => isTrue(c, context));
    case 'Condition':
      return isTrue(argument, context);
    default:
      context.unresolved(`condition ${name}`);
      return false;
  }
}
