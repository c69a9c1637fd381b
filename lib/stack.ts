/**
 * TeamTalkStack: one ChatBackend plus the outputs a client or operator needs.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ALL_TABLES } from '../core/store/schema.js';
import { ChatBackend, type ChatBackendProps } from './chat-backend.js';

export interface TeamTalkStackProps extends StackProps {
  /**
   * Passed through to the ChatBackend construct; a function of the stack when the props hold constructs that must
   * live in it (imported push secrets, lib/app.ts).
   */
  readonly backend?: ChatBackendProps | ((stack: Stack) => ChatBackendProps);
}

export class TeamTalkStack extends Stack {
  public readonly backend: ChatBackend;

  constructor(scope: Construct, id: string, props: TeamTalkStackProps = {}) {
    super(scope, id, {
      description: 'teamtalk-serverless: TeamTalk IM message path on API Gateway WebSocket, Lambda and DynamoDB',
      ...props,
    });
    this.backend = new ChatBackend(
      this,
      'ChatBackend',
      typeof props.backend === 'function' ? props.backend(this) : props.backend,
    );

    new CfnOutput(this, 'WebSocketUrl', {
      value: this.backend.webSocketUrl,
      description: 'Clients connect here: wss://…/{stage}?token=<jwt>',
    });
    new CfnOutput(this, 'ConnectionsEndpoint', {
      value: this.backend.connectionsEndpoint,
      description: '@connections management endpoint (CONNECTIONS_ENDPOINT)',
    });
    new CfnOutput(this, 'TokenIssuer', {
      value: this.backend.issuer,
      description: 'Issuer the $connect authorizer accepts',
    });
    if (this.backend.userPool && this.backend.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.backend.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.backend.userPoolClient.userPoolClientId });
    }
    if (this.backend.smokeTestClient) {
      new CfnOutput(this, 'SmokeTestClientId', {
        value: this.backend.smokeTestClient.userPoolClientId,
        description:
          'App client with USER_PASSWORD_AUTH for npm run smoke and CLI sign-in (deploy without smokeTestClient to remove it)',
      });
    }
    if (this.backend.dashboard) {
      new CfnOutput(this, 'DashboardName', {
        value: this.backend.dashboard.dashboardName,
        description: 'CloudWatch dashboard: messages, deliveries, ack latency, Lambda, DynamoDB, WebSocket',
      });
    }
    new CfnOutput(this, 'EventBusName', {
      value: this.backend.eventBus.eventBusName,
      description: "Offline push hook: 'Message Undelivered' events (source teamtalk-serverless) are put on this bus",
    });
    if (this.backend.alarmTopic) {
      new CfnOutput(this, 'AlarmTopicArn', {
        value: this.backend.alarmTopic.topicArn,
        description: 'Alarm notifications',
      });
    }
    new CfnOutput(this, 'AttachmentBucketName', {
      value: this.backend.attachmentBucket.bucketName,
      description: 'Pictures and voice notes (private; reached through presigned URLs only)',
    });
    new CfnOutput(this, 'AccountDeletionQueueUrl', {
      value: this.backend.accountDeletionQueue.queueUrl,
      description: 'DELETION_QUEUE_URL: account deletion pages (npm run admin -- delete-user queues to it)',
    });
    for (const spec of ALL_TABLES) {
      new CfnOutput(this, `${spec.id}TableName`, {
        value: this.backend.tables[spec.id].tableName,
        description: `${spec.envVar}: ${spec.description}`,
      });
    }
  }
}
