import type { Executor } from '../../db/db.js'
import { prepared } from '../../db/prepared.js'
import type { InboundMessagesTable } from './inbox.table.js'

// Every signed CRM call claims its nonce here: compiled once (db/prepared.ts).
const insertMessage = prepared((db, row: InboundMessagesTable) =>
  db
    .insertInto('inbound_messages')
    .values(row)
    .onConflict((oc) => oc.columns(['source', 'message_id']).doNothing())
    .returning('message_id'),
)

/** Inserts the message id unless it is there; true when this call inserted it. */
export async function insertOnce(db: Executor, row: InboundMessagesTable): Promise<boolean> {
  const { rows } = await insertMessage(db, row)
  return rows.length > 0
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
