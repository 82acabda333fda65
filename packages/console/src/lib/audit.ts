/**
 * The actions the server records in the audit log (`recordAudit` calls), in the order the action
 * filter offers them. An action not listed here (a newer server) still shows, by its code.
 */
export const AUDIT_ACTIONS = [
  'template.create',
  'template.update',
  'template.publish',
  'claim_link.create',
  'component.create',
  'image.upload',
  'card.open',
  'card.adjust_points',
  'card.change_template',
  'card.delete',
  'claim.failed',
  'stamp_activity.create',
  'stamp_activity.update',
  'stamp_activity.publish',
  'stamp_activity.end',
  'stamps.adjust',
  'shop.create',
  'shop.update',
  'shop.delete',
  'merchant.create',
  'merchant.alipay.update',
  'merchant.public_url.update',
  'merchant.crm.update',
  'admin.user.create',
  'admin.user.update',
  'admin.user.lock',
  'admin.user.password_change',
  'admin.user.password_reset',
] as const

const KNOWN = new Set<string>(AUDIT_ACTIONS)

/**
 * The i18n key of an action's label (`audit.actions.stamp_activity_publish`): dots would be read
 * as nesting, so they become underscores. Undefined for an action the console does not know.
 */
export function auditActionKey(action: string): string | undefined {
  return KNOWN.has(action) ? `audit.actions.${action.replace(/\./g, '_')}` : undefined
}

export type ActorKind = 'admin' | 'alipay' | 'crm' | 'till' | 'system' | 'cli' | 'other'

/**
 * Who an audit actor is: `admin:<id>` a console user, `alipay` or `alipay:<2088…>` an Alipay
 * user or message, `crm:<merchant>` the CRM, `till:<merchant>` the till, `system`/`cli`.
 * `id` is the part after the colon, when there is one.
 */
export function actorKind(actor: string): { kind: ActorKind; id?: string } {
  const [head, ...rest] = actor.split(':')
  const id = rest.length ? rest.join(':') : undefined
  const kinds: Record<string, ActorKind> = {
    admin: 'admin',
    alipay: 'alipay',
    crm: 'crm',
    till: 'till',
    system: 'system',
    cli: 'cli',
    demo: 'cli',
  }
  const kind = kinds[head ?? ''] ?? 'other'
  return kind === 'other' ? { kind } : { kind, ...(id ? { id } : {}) }
}
