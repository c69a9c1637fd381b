/**
 * The custom resource behind `apiGatewayLogsRole: 'ifMissing'` (lib/api-gateway-logs-role-handler.ts): it sets the
 * region's API Gateway CloudWatch role to the stack's role only when none is set, never overwrites one, and on
 * delete removes the stack's role only when the region does not use it. Mocked API Gateway and IAM clients.
 */
import './setup-env.js';
import {
  APIGatewayClient,
  BadRequestException,
  GetAccountCommand,
  UpdateAccountCommand,
} from '@aws-sdk/client-api-gateway';
import { DeleteRoleCommand, DetachRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOGS_POLICY_ARN, onEvent, type LogsRoleEvent } from '../../lib/api-gateway-logs-role-handler.js';

const apigateway = mockClient(APIGatewayClient);
const iam = mockClient(IAMClient);
const OUR_ROLE = 'arn:aws:iam::123456789012:role/Chat-ApiGatewayLogsRole-ABC';
const OTHER_ROLE = 'arn:aws:iam::123456789012:role/someone-elses-role';

function event(requestType: LogsRoleEvent['RequestType']): LogsRoleEvent {
  return {
    RequestType: requestType,
    ResourceProperties: { RoleArn: OUR_ROLE },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'apigateway-account-cloudwatch-role' }),
  };
}

const clients = () => ({
  apigateway: new APIGatewayClient({ region: 'eu-west-1' }),
  iam: new IAMClient({ region: 'eu-west-1' }),
  retryDelayMs: 0,
});

beforeEach(() => {
  apigateway.reset();
  iam.reset();
});
afterEach(() => {
  apigateway.reset();
  iam.reset();
});

describe('create and update', () => {
  it('sets the stack role when the region has none', async () => {
    apigateway.on(GetAccountCommand).resolves({});
    apigateway.on(UpdateAccountCommand).resolves({ cloudwatchRoleArn: OUR_ROLE });
    const result = await onEvent(event('Create'), clients());
    expect(apigateway.commandCalls(UpdateAccountCommand).map((c) => c.args[0].input)).toEqual([
      { patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: OUR_ROLE }] },
    ]);
    expect(result.Data).toEqual({ CloudWatchRoleArn: OUR_ROLE, SetByThisStack: 'true' });
  });

  it('leaves a role that is already set, whoever set it', async () => {
    for (const type of ['Create', 'Update'] as const) {
      apigateway.reset();
      apigateway.on(GetAccountCommand).resolves({ cloudwatchRoleArn: OTHER_ROLE });
      const result = await onEvent(event(type), clients());
      expect(apigateway.commandCalls(UpdateAccountCommand), type).toEqual([]);
      expect(result.Data, type).toEqual({ CloudWatchRoleArn: OTHER_ROLE, SetByThisStack: 'false' });
    }
  });

  it('retries while the new role is not yet assumable by API Gateway (IAM propagation), then succeeds', async () => {
    apigateway.on(GetAccountCommand).resolves({});
    apigateway
      .on(UpdateAccountCommand)
      .rejectsOnce(
        new BadRequestException({
          message: 'The role ARN does not have required permissions set to API Gateway',
          $metadata: {},
        }),
      )
      .resolves({ cloudwatchRoleArn: OUR_ROLE });
    await onEvent(event('Create'), clients());
    expect(apigateway.commandCalls(UpdateAccountCommand)).toHaveLength(2);
  });

  it('gives up after its tries and reports the error', async () => {
    apigateway.on(GetAccountCommand).resolves({});
    apigateway
      .on(UpdateAccountCommand)
      .rejects(new BadRequestException({ message: 'The role ARN does not have required permissions', $metadata: {} }));
    await expect(onEvent(event('Create'), clients())).rejects.toThrow(/required permissions/);
  });
});

describe('delete', () => {
  it('removes the stack role when the region uses another one (or none)', async () => {
    for (const current of [OTHER_ROLE, undefined]) {
      apigateway.reset();
      iam.reset();
      apigateway.on(GetAccountCommand).resolves(current ? { cloudwatchRoleArn: current } : {});
      await onEvent(event('Delete'), clients());
      expect(iam.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
        { RoleName: 'Chat-ApiGatewayLogsRole-ABC', PolicyArn: LOGS_POLICY_ARN('aws') },
      ]);
      expect(iam.commandCalls(DeleteRoleCommand).map((c) => c.args[0].input)).toEqual([
        { RoleName: 'Chat-ApiGatewayLogsRole-ABC' },
      ]);
    }
  });

  it('keeps the stack role, and the setting, while the region uses it: other APIs may log through it', async () => {
    apigateway.on(GetAccountCommand).resolves({ cloudwatchRoleArn: OUR_ROLE });
    const result = await onEvent(event('Delete'), clients());
    expect(iam.calls()).toEqual([]);
    expect(apigateway.commandCalls(UpdateAccountCommand)).toEqual([]);
    expect(result.Data).toEqual({ CloudWatchRoleArn: OUR_ROLE, SetByThisStack: 'false' });
  });

  it('is done when the role is gone already', async () => {
    apigateway.on(GetAccountCommand).resolves({});
    iam
      .on(DetachRolePolicyCommand)
      .rejects(Object.assign(new Error('Role not found'), { name: 'NoSuchEntityException' }));
    await expect(onEvent(event('Delete'), clients())).resolves.toMatchObject({ Data: { SetByThisStack: 'false' } });
    expect(iam.commandCalls(DeleteRoleCommand)).toEqual([]);
  });
});
