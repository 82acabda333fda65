import type { Executor } from '../../db/db.js'
import type { InboundMessagesTable } from './inbox.table.js'

/** Inserts the message id unless it is there; true when this call inserted it. */
export async function insertOnce(db: Executor, row: InboundMessagesTable): Promise<boolean> {
  const inserted = await db
    .insertInto('inbound_messages')
    .values(row)
    .onConflict((oc) => oc.columns(['source', 'message_id']).doNothing())
    .returning('message_id')
    .executeTakeFirst()
  return inserted !== undefined
}

export async function setResult(
  db: Executor,
  source: string,
  messageId: string,
  result: string,
): Promise<void> {
  await db
    .updateTable('inbound_messages')
    .set({ result })
    .where('source', '=', source)
    .where('message_id', '=', messageId)
    .execute()
}

export function find(db: Executor, source: string, messageId: string) {
  return db
    .selectFrom('inbound_messages')
    .selectAll()
    .where('source', '=', source)
    .where('message_id', '=', messageId)
    .executeTakeFirst()
}

export async function deleteOlderThan(
  db: Executor,
  source: string,
  before: string,
): Promise<number> {
  const result = await db
    .deleteFrom('inbound_messages')
    .where('source', '=', source)
    .where('received_at', '<', before)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function remove(db: Executor, source: string, messageId: string): Promise<void> {
  await db
    .deleteFrom('inbound_messages')
    .where('source', '=', source)
    .where('message_id', '=', messageId)
    .execute()
}
