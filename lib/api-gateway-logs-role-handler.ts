/**
 * Custom resource of ApiGatewayLogsRole (lib/api-gateway-logs-role.ts), run at deploy time, where what offline
 * synth cannot know is known: whether the region already has an API Gateway CloudWatch Logs role.
 * - Create/Update: sets the account's `cloudwatchRoleArn` to the stack's role only when none is set; an existing
 *   setting (another stack's, another tool's) is never overwritten.
 * - Delete: removes the stack's role (retained by CloudFormation) when the region does not use it; when it does,
 *   other APIs of the region may log through it, so role and setting stay.
 * The SDK clients are the Lambda runtime's (not bundled): this runs once per deploy.
 */
import { APIGatewayClient, GetAccountCommand, UpdateAccountCommand } from '@aws-sdk/client-api-gateway';
import { DeleteRoleCommand, DetachRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { CustomResourceResponseError } from '../core/errors.js';

/** What the handler reads of CloudFormation's request. */
export interface LogsRoleEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly RoleArn: string };
}

interface CloudFormationRequest extends LogsRoleEvent {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

export interface LogsRoleResult {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly CloudWatchRoleArn: string; readonly SetByThisStack: 'true' | 'false' };
}

export interface LogsRoleClients {
  readonly apigateway: APIGatewayClient;
  readonly iam: IAMClient;
  /** Pause between tries of UpdateAccount while a new role propagates in IAM. */
  readonly retryDelayMs?: number;
}

/** The setting is one per account and region: so is this resource. */
const PHYSICAL_ID = 'apigateway-account-cloudwatch-role';
/** A role created seconds ago is not yet assumable everywhere: API Gateway refuses it for a while. */
const UPDATE_TRIES = 10;

export const LOGS_POLICY_ARN = (partition: string) =>
  `arn:${partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs`;

export async function onEvent(event: LogsRoleEvent, clients: LogsRoleClients): Promise<LogsRoleResult> {
  const roleArn = event.ResourceProperties.RoleArn;
  const current = (await clients.apigateway.send(new GetAccountCommand({}))).cloudwatchRoleArn || undefined;
  const result = (arn: string, set: boolean): LogsRoleResult => ({
    PhysicalResourceId: PHYSICAL_ID,
    Data: { CloudWatchRoleArn: arn, SetByThisStack: set ? 'true' : 'false' },
  });
  if (event.RequestType === 'Delete') {
    if (current !== roleArn) await deleteRole(clients.iam, roleArn);
    return result(current ?? '', false);
  }
  if (current) return result(current, false);
  await setRole(clients, roleArn);
  return result(roleArn, true);
}

async function setRole(clients: LogsRoleClients, roleArn: string): Promise<void> {
  const update = new UpdateAccountCommand({
    patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: roleArn }],
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await clients.apigateway.send(update);
      return;
    } catch (error) {
      if (attempt >= UPDATE_TRIES || (error as Error).name !== 'BadRequestException') throw error;
      await new Promise((resolve) => setTimeout(resolve, clients.retryDelayMs ?? 3_000));
    }
  }
}

/** Detaches the managed policy and deletes the role; a role that is gone already is fine. */
async function deleteRole(iam: IAMClient, roleArn: string): Promise<void> {
  const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  const partition = roleArn.split(':')[1] ?? 'aws';
  try {
    await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: LOGS_POLICY_ARN(partition) }));
    await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
  } catch (error) {
    if ((error as Error).name !== 'NoSuchEntityException') throw error;
  }
}

/** The Lambda entry point: answers CloudFormation through the request's pre-signed ResponseURL. */
export async function handler(event: CloudFormationRequest): Promise<void> {
  let response: Record<string, unknown>;
  try {
    const result = await onEvent(event, { apigateway: new APIGatewayClient({}), iam: new IAMClient({}) });
    response = { Status: 'SUCCESS', ...result };
  } catch (error) {
    console.error(JSON.stringify({ message: 'API Gateway logs role failed', error: String(error) }));
    response = {
      Status: 'FAILED',
      Reason: String(error).slice(0, 500),
      PhysicalResourceId: event.PhysicalResourceId ?? PHYSICAL_ID,
    };
  }
  const body = JSON.stringify({
    ...response,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const answer = await fetch(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '' }, body });
  if (!answer.ok) throw new CustomResourceResponseError(`CloudFormation response refused: ${answer.status}`);
}
