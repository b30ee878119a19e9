/**
 * A thin layer over the DocumentClient for one table: strongly consistent reads, queries paginated to the end,
 * transactions whose cancellations are handed back per item, and every other AWS error translated once.
 */
import {
  type DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type CancellationReason,
  cancellationReasons,
  conditionFailure,
  toHighwaterError,
  translateCancellation,
} from './errors.js';
import type { Item, ItemKey } from './keys.js';

export type ConditionalCommand = PutCommand | UpdateCommand | DeleteCommand;
/** An item in DynamoDB's own AttributeValue form, as condition failures return it. */
export type RawItem = Record<string, unknown>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit on actions in one TransactWriteItems call. */
export const MAX_TRANSACT_ITEMS = 100;

/** `#name` tokens in the expressions become ExpressionAttributeNames, so reserved words (status, bytes…) are safe. */
export function attributeNames(...expressions: (string | undefined)[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const expr of expressions) {
    for (const m of expr?.matchAll(/#(\w+)/g) ?? []) names[`#${m[1]}`] = m[1]!;
  }
  return names;
}

export interface StateDb {
  readonly table: string;
  readonly doc: DynamoDBDocumentClient;
  /** Runs one SDK call, translating its errors (`op` names the operation and item for the message). */
  call<T>(op: string, fn: () => Promise<T>): Promise<T>;
  /** Translates an error that the caller examined and did not handle. */
  translate(op: string, e: unknown): Error;
  /**
   * A conditional write (Put, Update or Delete with ReturnValuesOnConditionCheckFailure ALL_OLD): resolves to
   * `{ ok: false, old }` when the condition failed, `old` being the item as it was, in raw AttributeValue form.
   */
  conditional(
    op: string,
    command: ConditionalCommand,
  ): Promise<{ ok: true; attributes: Item | undefined } | { ok: false; old: RawItem | undefined }>;
  get(op: string, key: ItemKey): Promise<Item | undefined>;
  query(op: string, input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]>;
  /**
   * One transaction. On cancellation `onCancel` sees the reasons (in TransactItems order) and throws the error it
   * means; if it returns, a conflict with another transaction is retried (RetryAttempt) and anything else translated.
   */
  transact(op: string, items: TransactItem[], onCancel: (reasons: CancellationReason[]) => void): Promise<void>;
}

export function createStateDb(doc: DynamoDBDocumentClient, table: string): StateDb {
  const call = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw toHighwaterError(e, table, op);
    }
  };

  return {
    table,
    doc,
    call,
    translate: (op, e) => toHighwaterError(e, table, op),

    async conditional(op, command) {
      try {
        // send() is generic per command type, so each member of the union is sent on its own. `attributes`: what
        // ReturnValues asked for, if anything.
        if (command instanceof PutCommand) return { ok: true, attributes: (await doc.send(command)).Attributes };
        if (command instanceof UpdateCommand) return { ok: true, attributes: (await doc.send(command)).Attributes };
        return { ok: true, attributes: (await doc.send(command)).Attributes };
      } catch (e) {
        const failed = conditionFailure(e);
        if (failed === undefined) throw toHighwaterError(e, table, op);
        return { ok: false, old: failed.item };
      }
    },

    async get(op, key) {
      const out = await call(op, () => doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true })));
      return out.Item;
    },

    async query(op, input) {
      const items: Item[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await call(op, () =>
          doc.send(new QueryCommand({ ...input, TableName: table, ExclusiveStartKey: start })),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
      return items;
    },

    async transact(op, items, onCancel) {
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (e) {
        const reasons = cancellationReasons(e);
        if (reasons === undefined) throw toHighwaterError(e, table, op);
        onCancel(reasons);
        throw translateCancellation(e, reasons, table, op);
      }
    },
  };
}
