import type { StampActivityView } from '@kaguan/contracts'
import { App, Button, Form, Input, InputNumber, Select, Tag, Tooltip } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api, get } from '../api/client.js'
import { listAll } from '../api/paged.js'
import { formatTime, idempotencyKey } from '../lib/format.js'
import { holdCountdown } from '../lib/stamps.js'
import { useErrorReporter, useLoad, type Loaded } from './hooks.js'

const STATUS_COLOR = { draft: 'default', published: 'green', ended: 'red' } as const

export function StampStatusTag({ status }: { status: StampActivityView['status'] }) {
  const { t } = useTranslation()
  return (
    <Tag color={STATUS_COLOR[status]} data-testid="stamp-status">
      {t(`stamps.status.${status}`)}
    </Tag>
  )
}

export function StampTypeTag({ type }: { type: StampActivityView['type'] }) {
  const { t } = useTranslation()
  return <Tag color={type === 'POINT_SEND' ? 'blue' : 'purple'}>{t(`stamps.types.${type}`)}</Tag>
}

const ENTRY_COLOR: Record<string, string> = {
  DEPOSIT: 'green',
  CONSUME: 'red',
  FREEZE: 'orange',
  COMMIT: 'purple',
  CANCEL: 'cyan',
}

export function EntryTypeTag({ type }: { type: string }) {
  const { t } = useTranslation()
  return (
    <Tag color={ENTRY_COLOR[type] ?? 'default'}>
      {t(`stamps.account.entryTypes.${type}`, { defaultValue: type })}
    </Tag>
  )
}

const HOLD_COLOR: Record<string, string> = {
  held: 'orange',
  committed: 'green',
  cancelled: 'default',
}

export function HoldStatusTag({ status }: { status: string }) {
  const { t } = useTranslation()
  return (
    <Tag color={HOLD_COLOR[status] ?? 'default'}>
      {t(`stamps.holds.status.${status}`, { defaultValue: status })}
    </Tag>
  )
}

/** The time a held exchange still waits for its claim, or that it is overdue. */
export function HoldCountdown({ hold }: { hold: { status: string; expiresAt: string } }) {
  const { t } = useTranslation()
  const left = holdCountdown(hold, new Date())
  if (left.state === 'resolved') {
    return <>—</>
  }
  return (
    <Tooltip title={formatTime(hold.expiresAt)}>
      {left.state === 'waiting' ? (
        <Tag color="blue">{t('stamps.holds.minutesLeft', { count: left.minutes })}</Tag>
      ) : (
        <Tag color="red">{t('stamps.holds.overdue')}</Tag>
      )}
    </Tooltip>
  )
}

/** The merchant's activities (a short list), for names and pickers. */
export function useStampActivities(merchantId: string): Loaded<StampActivityView[]> {
  return useLoad(
    () => listAll<StampActivityView>(get, `/api/merchants/${merchantId}/stamp-activities`),
    [merchantId],
  )
}

/**
 * A manual change of a member's stamps with a reason (audited by the API). With `activityId` the
 * activity is fixed (an account's ledger); without it the operator picks a running stamp activity.
 */
export function AdjustStampsForm({
  merchantId,
  memberId,
  activityId,
  activities,
  onDone,
}: {
  merchantId: string
  memberId: string
  activityId?: string
  activities: StampActivityView[]
  onDone: () => void
}) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const [form] = Form.useForm<{ activityId: string; delta: number; reason: string }>()
  const [busy, setBusy] = useState(false)
  const running = activities.filter((a) => a.type === 'POINT_SEND' && a.status === 'published')
  return (
    <Form
      form={form}
      name="stampAdjust"
      layout="inline"
      initialValues={{ activityId: activityId ?? running[0]?.id }}
      style={{ rowGap: 8 }}
      onFinish={async (v) => {
        setBusy(true)
        try {
          await api(
            'POST',
            `/api/merchants/${merchantId}/stamp-activities/${activityId ?? v.activityId}/adjustments`,
            { memberId, delta: v.delta, reason: v.reason, idempotencyKey: idempotencyKey() },
          )
          form.resetFields(['delta', 'reason'])
          void message.success(t('stamps.adjust.done'))
          onDone()
        } catch (e) {
          report(e, form)
        } finally {
          setBusy(false)
        }
      }}
    >
      {!activityId && (
        <Form.Item
          name="activityId"
          label={t('stamps.adjust.activity')}
          rules={[{ required: true, message: t('stamps.adjust.noActivity') }]}
        >
          <Select
            style={{ width: 200 }}
            notFoundContent={t('stamps.adjust.noActivity')}
            options={running.map((a) => ({ value: a.id, label: a.name }))}
            data-testid="stamp-adjust-activity"
          />
        </Form.Item>
      )}
      <Form.Item
        name="delta"
        label={t('stamps.adjust.delta')}
        tooltip={t('stamps.adjust.deltaHelp')}
        rules={[
          { required: true },
          {
            validator: (_, v) =>
              v === 0 ? Promise.reject(new Error(t('members.deltaZero'))) : Promise.resolve(),
          },
        ]}
      >
        <InputNumber precision={0} min={-10000} max={10000} data-testid="stamp-adjust-delta" />
      </Form.Item>
      <Form.Item
        name="reason"
        label={t('stamps.adjust.reason')}
        rules={[{ required: true, max: 200 }]}
      >
        <Input style={{ width: 240 }} data-testid="stamp-adjust-reason" />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={busy} data-testid="stamp-adjust-submit">
        {t('stamps.adjust.submit')}
      </Button>
    </Form>
  )
}
