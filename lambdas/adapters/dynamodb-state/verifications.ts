/**
 * The ledger's verifications: one item per verification in its table's partition (`VERIFY#<at>`), the record as a
 * map. A descending query with a limit reads the newest; after each write, those beyond VERIFICATIONS_KEPT go.
 */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { VerificationRecord } from '../../domain/manifests.js';
import { checkVerification, VERIFICATIONS_KEPT, verificationFromStore } from '../../ports/checks.js';
import type { StoreContext } from './context.js';
import { SCHEMA_VERSION, tablePk, VERIFICATION_SK_PREFIX, verificationKey } from './keys.js';

const KEY_CONDITION = 'pk = :pk AND begins_with(sk, :prefix)';

export async function recordVerification(
  ctx: StoreContext,
  tableKey: string,
  record: VerificationRecord,
): Promise<void> {
  const checked = checkVerification(tableKey, record);
  const op = `recordVerification ${tableKey}`;
  const { db } = ctx;
  await db.call(op, () =>
    db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          ...verificationKey(tableKey, checked.at),
          itemType: 'verification',
          schemaVersion: SCHEMA_VERSION,
          tableKey,
          record: checked,
        },
      }),
    ),
  );
  const older = await db.query(op, {
    KeyConditionExpression: KEY_CONDITION,
    ExpressionAttributeValues: { ':pk': tablePk(tableKey), ':prefix': VERIFICATION_SK_PREFIX },
    ProjectionExpression: 'pk, sk',
    ScanIndexForward: false,
    ConsistentRead: true,
  });
  for (const key of older.slice(VERIFICATIONS_KEPT)) {
    await db.call(op, () => db.doc.send(new DeleteCommand({ TableName: db.table, Key: { pk: key.pk, sk: key.sk } })));
  }
}

export async function listVerifications(ctx: StoreContext, tableKey: string, limit = 1): Promise<VerificationRecord[]> {
  const wanted = Math.max(0, Math.floor(limit));
  if (wanted === 0) return [];
  const { db } = ctx;
  const out = await db.call(`listVerifications ${tableKey}`, () =>
    db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: KEY_CONDITION,
        ExpressionAttributeValues: { ':pk': tablePk(tableKey), ':prefix': VERIFICATION_SK_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: wanted,
      }),
    ),
  );
  return (out.Items ?? []).map((item) => verificationFromStore(`state table ${db.table}`, tableKey, item.record));
}
