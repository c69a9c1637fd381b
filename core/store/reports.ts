/**
 * Reports table: one item per report, keyed by its id (core/domain/report.ts derives it from the reporter and the
 * target), so filing is one conditional PutItem (`attribute_not_exists`) that either writes the report or — a repeat,
 * or the loser of two racing reports — returns the item that holds the id (`ReturnValuesOnConditionCheckFailure`
 * ALL_OLD: no read first). An item is at most a few KB of text plus the snapshot (≤ 5 messages of ≤ 4 KB each).
 * The operator's list of open reports is a Scan page filtered on `status` (docs/moderation.md): an admin tool's read,
 * never a client's, over a table that holds only reports.
 */
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Report } from '../domain/report.js';
import type { ReportStore } from '../ports/moderation.js';
import { conditionFailure, isConditionFailed } from './document-client.js';

export class ReportTable implements ReportStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(reportId: string): Promise<Report | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { report_id: reportId }, ConsistentRead: true }),
    );
    return result.Item as Report | undefined;
  }

  async create(report: Report): Promise<{ report: Report; created: boolean }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: report,
          ConditionExpression: 'attribute_not_exists(report_id)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { report, created: true };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return { report: (conditionFailure(error) as Report | undefined) ?? report, created: false };
    }
  }

  async listOpen(page: { after?: string; limit: number }): Promise<{ reports: Report[]; next?: string }> {
    const result = await this.db.send(
      new ScanCommand({
        TableName: this.tableName,
        FilterExpression: '#s = :open',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':open': 'open' },
        Limit: page.limit,
        ...(page.after === undefined ? {} : { ExclusiveStartKey: { report_id: page.after } }),
      }),
    );
    const last = result.LastEvaluatedKey?.['report_id'] as string | undefined;
    return { reports: (result.Items ?? []) as Report[], ...(last === undefined ? {} : { next: last }) };
  }

  async resolve(reportId: string, resolution: string, atSeconds: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { report_id: reportId },
          UpdateExpression: 'SET #s = :resolved, resolved_at = :at, resolution = :r',
          ConditionExpression: 'attribute_exists(report_id)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':resolved': 'resolved', ':at': atSeconds, ':r': resolution },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
