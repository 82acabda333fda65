import { describe, expect, it } from 'vitest'
import { zhCN } from '../i18n/zh-CN.js'
import { en } from '../i18n/en.js'
import { actorKind, AUDIT_ACTIONS, auditActionKey } from './audit.js'

describe('audit labels', () => {
  it('keys an action without dots, and knows no key for an unknown action', () => {
    expect(auditActionKey('stamp_activity.publish')).toBe('audit.actions.stamp_activity_publish')
    expect(auditActionKey('merchant.public_url.update')).toBe(
      'audit.actions.merchant_public_url_update',
    )
    expect(auditActionKey('something.new')).toBeUndefined()
  })

  it('has a Chinese and an English label for every action it offers', () => {
    for (const action of AUDIT_ACTIONS) {
      const key = auditActionKey(action)!.split('.').pop()!
      expect((zhCN.audit.actions as Record<string, string>)[key], action).toBeTruthy()
      expect((en.audit.actions as Record<string, string>)[key], action).toBeTruthy()
    }
  })

  it('tells console users, Alipay, the CRM and the system apart', () => {
    expect(actorKind('admin:adm_01ABC')).toEqual({ kind: 'admin', id: 'adm_01ABC' })
    expect(actorKind('alipay:2088000000000001')).toEqual({
      kind: 'alipay',
      id: '2088000000000001',
    })
    expect(actorKind('alipay')).toEqual({ kind: 'alipay' })
    expect(actorKind('crm:mch_default')).toEqual({ kind: 'crm', id: 'mch_default' })
    expect(actorKind('system')).toEqual({ kind: 'system' })
    expect(actorKind('whoever:x')).toEqual({ kind: 'other' })
  })
})
