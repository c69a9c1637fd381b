/**
 * ChatWebSocketApi: the API Gateway WebSocket API (route selection `$request.body.action`), its stage with access
 * logs and throttling, and the routes of core/routes.ts — `$connect` behind the token authorizer — each on its
 * function's Lambda integration.
 */
import { type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CONNECT_ROUTE, type FunctionId, ROUTES, type RouteKey } from '../core/routes.js';
import { ApiGatewayLogsRole, type ApiGatewayLogsRoleMode } from './api-gateway-logs-role.js';

export interface ChatWebSocketApiProps {
  /** The backend's name (lib/instance-names.ts): the API is `<name>-chat`. */
  readonly name: string;
  readonly stageName: string;
  /** Default route throttling of the stage. */
  readonly throttle: apigwv2.ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
  /** Removal policy of the access log group. */
  readonly removalPolicy: RemovalPolicy;
  /** How the region's API Gateway CloudWatch Logs role (which access logging needs) is set. */
  readonly apiGatewayLogsRole: ApiGatewayLogsRoleMode;
}

/**
 * The stage's default route throttle: every inbound frame of every client counts, so a one-to-one message (msg_data
 * in, msg_data_ack in) takes two (docs/capacity.md). API Gateway's account-wide quota is 10,000 a second.
 */
export const DEFAULT_STAGE_THROTTLE = { rateLimit: 1000, burstLimit: 2000 } as const;

/** The access log line of every WebSocket request: who, which route, what status, how long. */
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  connectionId: '$context.connectionId',
  userId: '$context.authorizer.principalId',
  sourceIp: '$context.identity.sourceIp',
  status: '$context.status',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  error: '$context.error.message',
  authorizerError: '$context.authorizer.error',
};

export class ChatWebSocketApi extends Construct {
  public readonly api: apigwv2.WebSocketApi;
  public readonly stage: apigwv2.WebSocketStage;
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}` */
  public readonly url: string;
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: the @connections endpoint. */
  public readonly connectionsEndpoint: string;
  /** The ARN `execute-api:ManageConnections` is granted on: this API and stage, any method and connection. */
  public readonly manageConnectionsArn: string;

  constructor(scope: Construct, id: string, props: ChatWebSocketApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // API and stage in the backend's scope: their logical ids stay those of earlier releases, so an upgrade keeps
    // the wss URL clients were built with (and does not collide with the existing stage's name).
    this.api = new apigwv2.WebSocketApi(scope, 'WebSocketApi', {
      apiName: `${props.name}-chat`,
      description: 'TeamTalk IM message path (JSON frames, route on $request.body.action)',
      routeSelectionExpression: '$request.body.action',
    });
    // Before the stage: its access logs need the region's role.
    const logsRole = ApiGatewayLogsRole.of(this, 'LogsRole', {
      mode: props.apiGatewayLogsRole,
      logRetention: props.logRetention,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigwv2.WebSocketStage(scope, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });
    this.stage.node.addDependency(logsRole);
    this.url = this.stage.url;
    this.connectionsEndpoint = this.stage.callbackUrl;
    this.manageConnectionsArn = stack.formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${props.stageName}/*/@connections/*`,
    });
  }

  /**
   * Adds every route of core/routes.ts (`$connect` behind the authorizer), each on its function; one integration per
   * function, shared by all the routes it serves.
   */
  addRoutes(functions: Readonly<Record<FunctionId, lambda.IFunction>>): void {
    const integrations = new Map<FunctionId, WebSocketLambdaIntegration>();
    const integrationOf = (fnId: FunctionId): WebSocketLambdaIntegration => {
      let integration = integrations.get(fnId);
      if (!integration) {
        integration = new WebSocketLambdaIntegration(
          `${fnId.charAt(0).toUpperCase()}${fnId.slice(1)}Integration`,
          functions[fnId],
        );
        integrations.set(fnId, integration);
      }
      return integration;
    };
    const authorizer = new WebSocketLambdaAuthorizer('TokenAuthorizer', functions.authorizer, {
      identitySource: ['route.request.querystring.token'],
    });
    for (const [routeKey, fnId] of Object.entries(ROUTES) as [RouteKey, FunctionId][]) {
      this.api.addRoute(routeKey, {
        integration: integrationOf(fnId),
        ...(routeKey === CONNECT_ROUTE ? { authorizer } : {}),
      });
    }
    this.acknowledgeRouteAuthorization();
  }

  /** Every route but $connect: API Gateway WebSocket APIs authorize only the connection. */
  private acknowledgeRouteAuthorization(): void {
    for (const route of this.api.node.children) {
      if (!(route instanceof apigwv2.WebSocketRoute)) continue;
      const routeKey = (route.node.defaultChild as apigwv2.CfnRoute).routeKey;
      if (routeKey === CONNECT_ROUTE) continue;
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `API Gateway WebSocket APIs authorize only $connect; route ${routeKey} runs on a connection its $connect authorizer already admitted and receives that identity in the authorizer context.`,
      });
    }
  }
}
