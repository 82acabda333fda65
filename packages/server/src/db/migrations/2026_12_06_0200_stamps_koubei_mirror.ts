import type { Kysely } from 'kysely'

/**
 * The Koubei mirror of the stamp ledger: a mirrored stamp activity's point account on Koubei
 * (`activity_account`, from the activity's detail query), and on each hold the `point_log_no` of
 * its mirrored FREEZE, which Koubei wants as `biz_no` of the COMMIT or CANCEL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('stamp_activities').addColumn('koubei_account', 'text').execute()
  await db.schema.alterTable('stamp_holds').addColumn('koubei_log_no', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('stamp_holds').dropColumn('koubei_log_no').execute()
  await db.schema.alterTable('stamp_activities').dropColumn('koubei_account').execute()
}
