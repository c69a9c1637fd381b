/**
 * ApiGatewayLogsRole: the CloudWatch Logs role API Gateway needs for access logs of WebSocket stages. It is one
 * setting per account and region (AWS::ApiGateway::Account), shared by every API there, so the construct handles it
 * carefully:
 * - `ifMissing` (default): a custom resource (lib/api-gateway-logs-role-handler.ts) sets the stack's role only
 *   where the region has none, and on stack deletion removes the role only if the region does not use it;
 * - `overwrite`: AWS::ApiGateway::Account with the stack's role, replacing whatever was set (the stack's role is
 *   retained on deletion, since the region keeps using it);
 * - `leave`: nothing; the account must already have a role (`aws apigateway get-account` shows it).
 * A stack has one, whatever the number of ChatBackends in it (ApiGatewayLogsRole.of): two custom resources, or two
 * AWS::ApiGateway::Account, would race for the same setting.
 */
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundledHandler, LAMBDA_RUNTIME } from './bundling.js';
import { ConfigError } from '../core/errors.js';

/** How the construct treats the region's API Gateway CloudWatch Logs role; see ApiGatewayLogsRole. */
export type ApiGatewayLogsRoleMode = 'ifMissing' | 'overwrite' | 'leave';
export const API_GATEWAY_LOGS_ROLE_MODES: readonly ApiGatewayLogsRoleMode[] = ['ifMissing', 'overwrite', 'leave'];

export interface ApiGatewayLogsRoleProps {
  readonly mode: ApiGatewayLogsRoleMode;
  /** Log retention of the custom resource's function. */
  readonly logRetention: logs.RetentionDays;
}

const MANAGED_POLICY = 'service-role/AmazonAPIGatewayPushToCloudWatchLogs';
/**
 * How long CloudFormation waits for the setter's answer: the function's 2 minutes and one asynchronous retry. Without
 * it, a setter that crashes before answering holds the deploy for an hour.
 */
export const LOGS_ROLE_SERVICE_TIMEOUT = Duration.minutes(5);

const BY_STACK = new WeakMap<Stack, ApiGatewayLogsRole>();

export class ApiGatewayLogsRole extends Construct {
  /** The stack's role (none with `leave`). */
  public readonly role?: iam.Role;
  public readonly mode: ApiGatewayLogsRoleMode;

  /** The stack's one ApiGatewayLogsRole: created in `scope` by the stack's first ChatBackend, shared by the others. */
  static of(scope: Construct, id: string, props: ApiGatewayLogsRoleProps): ApiGatewayLogsRole {
    const existing = BY_STACK.get(Stack.of(scope));
    if (!existing) return new ApiGatewayLogsRole(scope, id, props);
    if (existing.mode !== props.mode) {
      throw new ConfigError(
        `ChatBackend: apiGatewayLogsRole "${props.mode}" differs from "${existing.mode}" of ${existing.node.path}; the setting is one per region, so every ChatBackend of a stack must ask the same`,
      );
    }
    return existing;
  }

  private constructor(scope: Construct, id: string, props: ApiGatewayLogsRoleProps) {
    super(scope, id);
    BY_STACK.set(Stack.of(this), this);
    this.mode = props.mode;
    if (!API_GATEWAY_LOGS_ROLE_MODES.includes(props.mode)) {
      throw new ConfigError(
        `ChatBackend: apiGatewayLogsRole must be one of ${API_GATEWAY_LOGS_ROLE_MODES.join(', ')}, got "${String(props.mode)}"`,
      );
    }
    if (props.mode === 'leave') return;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway role for CloudWatch Logs (access logs of the WebSocket stages of this region)',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(MANAGED_POLICY)],
    });
    // CloudFormation never deletes it: the region may log through it after the stack is gone (ifMissing's custom
    // resource deletes it itself when the region does not use it).
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${MANAGED_POLICY}]`,
      reason:
        "API Gateway's region-wide CloudWatch Logs role: the AWS managed policy is the documented one, and it must cover every API in the region, not only this stack's log groups.",
    });
    if (props.mode === 'overwrite') new CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    else this.setIfMissing(this.role, props.logRetention);
  }

  private setIfMissing(role: iam.Role, logRetention: logs.RetentionDays): void {
    const stack = Stack.of(this);
    const accountArn = `arn:${stack.partition}:apigateway:${stack.region}::/account`;
    const fnRole = new iam.Role(this, 'SetterRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sets the region API Gateway CloudWatch role if none is set; deletes the stack role if unused',
    });
    fnRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['apigateway:GET', 'apigateway:PATCH'], resources: [accountArn] }),
    );
    fnRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole', 'iam:DetachRolePolicy', 'iam:DeleteRole'],
        resources: [role.roleArn],
      }),
    );
    const logGroup = new logs.LogGroup(this, 'SetterLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    logGroup.grantWrite(fnRole);
    const fn = new NodejsFunction(this, 'Setter', {
      // The SDK's API Gateway and IAM clients of the Lambda runtime: this runs once per deploy.
      ...bundledHandler('lib/api-gateway-logs-role-handler.ts', { externalModules: ['@aws-sdk/*'] }),
      description: 'Sets the region API Gateway CloudWatch Logs role when none is set (never overwrites)',
      memorySize: 128,
      timeout: Duration.minutes(2),
      role: fnRole,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `${LAMBDA_RUNTIME.name} is pinned on purpose, like every function of the construct (lib/bundling.ts).`,
    });
    new CustomResource(this, 'Setting', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::ApiGatewayCloudWatchRole',
      properties: { RoleArn: role.roleArn },
      serviceTimeout: LOGS_ROLE_SERVICE_TIMEOUT,
    });
  }
}
