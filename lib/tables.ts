/**
 * ChatTables: the DynamoDB tables of a ChatBackend, one TableV2 per entry of core/store/schema.ts (keys, TTL), all
 * on demand with point-in-time recovery, DynamoDB-owned encryption and (by default) deletion protection.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ALL_TABLES, type KeyAttribute, type TableId } from '../core/store/schema.js';

export interface ChatTablesProps {
  /** Removal policy of every table. */
  readonly removalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection of every table: a DeleteTable, by hand or by CloudFormation, is refused. */
  readonly deletionProtection: boolean;
}

export class ChatTables extends Construct {
  /** Tables by logical id (core/store/schema.ts). */
  public readonly tables: Readonly<Record<TableId, dynamodb.TableV2>>;

  constructor(scope: Construct, id: string, props: ChatTablesProps) {
    super(scope, id);
    const tables = {} as Record<TableId, dynamodb.TableV2>;
    for (const spec of ALL_TABLES) {
      // In the backend's scope, not this one: the logical ids stay those of releases before this construct existed,
      // so an upgrade does not replace (and, retained, orphan) every table.
      tables[spec.id] = new dynamodb.TableV2(scope, spec.id, {
        partitionKey: { name: spec.partitionKey.name, type: attributeType(spec.partitionKey) },
        ...(spec.sortKey ? { sortKey: { name: spec.sortKey.name, type: attributeType(spec.sortKey) } } : {}),
        ...(spec.ttlAttribute ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryptionV2.dynamoOwnedKey(), // default SSE, no KMS request charges
        deletionProtection: props.deletionProtection,
        removalPolicy: props.removalPolicy,
      });
    }
    this.tables = tables;
  }
}

function attributeType(key: KeyAttribute): dynamodb.AttributeType {
  return key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
}
