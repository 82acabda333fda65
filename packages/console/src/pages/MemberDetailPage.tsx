import {
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Popconfirm,
  Space,
  Spin,
  Table,
  Tag,
} from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router-dom'
import { api } from '../api/client.js'
import type { CardDetail, PointEntry } from '../api/types.js'
import type { StampAccountView } from '@kaguan/contracts'
import { get, queryString } from '../api/client.js'
import { asPage } from '../api/paged.js'
import { ActorCell, AuditTable } from '../components/AuditTable.js'
import { AdjustStampsForm, useStampActivities } from '../components/stamps.js'
import { useErrorReporter, useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { MemberPrivacyCard } from '../components/MemberPrivacy.js'
import { PageHeader } from '../components/PageHeader.js'
import { formatTime, idempotencyKey } from '../lib/format.js'
import { useMerchant, useSession } from '../session.js'
import { HoldsTable } from './StampHoldsPage.js'

export function MemberDetailPage() {
  const { cardId } = useParams()
  const { t } = useTranslation()
  const navigate = useNavigate()
  const { can } = useSession()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const detail = useLoad(() => api<CardDetail>('GET', `/api/cards/${cardId}`), [cardId])
  if (detail.error) {
    return <LoadError error={detail.error} onRetry={detail.reload} />
  }
  if (!detail.data) {
    return <Spin />
  }
  const { card, member, points, history } = detail.data
  return (
    <>
      <PageHeader
        title={t('members.cardTitle', { no: card.alipayCardNo || card.bizCardNo })}
        subtitle={member?.masked.name}
        extra={
          can('members.write') &&
          card.status === 'active' && (
            <Popconfirm
              title={t('members.deleteCardConfirm')}
              onConfirm={async () => {
                try {
                  await api('DELETE', `/api/cards/${card.id}`)
                  void message.success(t('common.deleted'))
                  navigate('/members')
                } catch (e) {
                  report(e)
                }
              }}
            >
              <Button danger>{t('members.deleteCard')}</Button>
            </Popconfirm>
          )
        }
      />
      <Space direction="vertical" size="middle" style={{ width: '100%' }}>
        <Card size="small" title={t('members.card')}>
          <Descriptions column={3} size="small">
            <Descriptions.Item label={t('members.points')}>
              <span data-testid="card-points">{card.point}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('members.level')}>{card.level ?? '—'}</Descriptions.Item>
            <Descriptions.Item label={t('members.balance')}>
              {card.balance ?? '—'}
            </Descriptions.Item>
            <Descriptions.Item label={t('members.cardStatus')}>
              <Tag color={card.status === 'active' ? 'green' : 'default'}>
                {t(`members.cardStatuses.${card.status}`)}
              </Tag>
              {card.syncPending && <Tag color="orange">{t('members.syncPending')}</Tag>}
            </Descriptions.Item>
            <Descriptions.Item label={t('members.bizCardNo')}>{card.bizCardNo}</Descriptions.Item>
            <Descriptions.Item label={t('members.alipayUserId')}>
              {card.alipayUserId}
            </Descriptions.Item>
            <Descriptions.Item label={t('members.openDate')}>{card.openDate}</Descriptions.Item>
            <Descriptions.Item label={t('members.validDate')}>{card.validDate}</Descriptions.Item>
            <Descriptions.Item label={t('claimLinks.channel')}>
              {card.outString ?? '—'}
            </Descriptions.Item>
            <Descriptions.Item label={t('members.mobile')}>
              {member?.masked.mobile ?? '—'}
            </Descriptions.Item>
            <Descriptions.Item label={t('members.source')}>
              {member ? t(`members.sources.${member.source}`) : '—'}
            </Descriptions.Item>
          </Descriptions>
        </Card>
        {can('members.write') && card.status === 'active' && (
          <AdjustPoints cardId={card.id} onDone={detail.reload} />
        )}
        {member && can('members.write') && (
          <MemberPrivacyCard member={member} onChanged={detail.reload} />
        )}
        {member && can('members.read') && <MemberStamps memberId={member.id} />}
        <Card size="small" title={t('members.pointsHistory')}>
          <Table<PointEntry>
            rowKey="id"
            size="small"
            dataSource={points}
            pagination={{ pageSize: 10, hideOnSinglePage: true }}
            locale={{ emptyText: t('members.noPoints') }}
            columns={[
              {
                title: t('audit.at'),
                dataIndex: 'createdAt',
                render: (v: string) => formatTime(v),
              },
              {
                title: t('members.delta'),
                dataIndex: 'delta',
                render: (d: number) => (
                  <Tag color={d >= 0 ? 'green' : 'red'}>{d > 0 ? `+${d}` : d}</Tag>
                ),
              },
              { title: t('members.pointAfter'), dataIndex: 'pointAfter' },
              { title: t('members.reason'), dataIndex: 'reason' },
              {
                title: t('members.by'),
                dataIndex: 'source',
                render: (v: string) =>
                  v.includes(':') ? (
                    <ActorCell actor={v} />
                  ) : (
                    t(`members.pointSources.${v}`, { defaultValue: v })
                  ),
              },
            ]}
          />
        </Card>
        <Card size="small" title={t('members.history')}>
          <AuditTable items={history} pagination={{ pageSize: 10, hideOnSinglePage: true }} />
        </Card>
      </Space>
    </>
  )
}

function AdjustPoints({ cardId, onDone }: { cardId: string; onDone: () => void }) {
  const { t } = useTranslation()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const merchant = useMerchant()
  const [form] = Form.useForm<{ delta: number; reason: string }>()
  const [busy, setBusy] = useState(false)
  const crm = merchant.crm.mode === 'crm'
  return (
    <Card size="small" title={t('members.adjust')} extra={crm && t('members.adjustCrm')}>
      <Form
        form={form}
        layout="inline"
        disabled={crm}
        onFinish={async (v) => {
          setBusy(true)
          try {
            await api('POST', `/api/cards/${cardId}/points`, {
              delta: v.delta,
              reason: v.reason,
              idempotencyKey: idempotencyKey(),
            })
            form.resetFields()
            void message.success(t('members.adjusted'))
            onDone()
          } catch (e) {
            report(e, form)
          } finally {
            setBusy(false)
          }
        }}
      >
        <Form.Item
          name="delta"
          label={t('members.delta')}
          rules={[
            { required: true },
            {
              validator: (_, v) =>
                v === 0 ? Promise.reject(new Error(t('members.deltaZero'))) : Promise.resolve(),
            },
          ]}
        >
          <InputNumber precision={0} data-testid="adjust-delta" />
        </Form.Item>
        <Form.Item name="reason" label={t('members.reason')} rules={[{ required: true, max: 128 }]}>
          <Input style={{ width: 260 }} data-testid="adjust-reason" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="adjust-submit">
          {t('members.adjustSubmit')}
        </Button>
      </Form>
    </Card>
  )
}

/** The member's stamps in every activity (each linking to its ledger), a manual change, the holds. */
function MemberStamps({ memberId }: { memberId: string }) {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const activities = useStampActivities(merchant.id)
  const accounts = useLoad(
    async () =>
      asPage<StampAccountView>(
        // A member has one account per stamp activity: a page of 200 holds them all.
        await get(
          `/api/merchants/${merchant.id}/stamp-accounts${queryString({ memberId, pageSize: 200 })}`,
        ),
        { page: 1, pageSize: 200 },
      ).items,
    [merchant.id, memberId],
  )
  const [tick, setTick] = useState(0)
  const list = activities.data ?? []
  const name = (id: string) => list.find((a) => a.id === id)?.name ?? id
  const toComplete = (id: string) => list.find((a) => a.id === id)?.spec.stampsToComplete
  const running = list.some((a) => a.type === 'POINT_SEND' && a.status === 'published')
  // A merchant without point collection sees nothing of it here.
  if (activities.data && !list.some((a) => a.type === 'POINT_SEND')) {
    return null
  }
  return (
    <Card size="small" title={t('stamps.account.memberStamps')} data-testid="member-stamps">
      {accounts.error ? (
        <LoadError error={accounts.error} onRetry={accounts.reload} />
      ) : (
        <Table<StampAccountView>
          rowKey="id"
          size="small"
          loading={accounts.loading}
          dataSource={accounts.data ?? []}
          pagination={false}
          locale={{ emptyText: t('stamps.account.memberStampsEmpty') }}
          columns={[
            {
              title: t('stamps.account.activity'),
              dataIndex: 'activityId',
              render: (v: string) => <Link to={`/stamps/${v}`}>{name(v)}</Link>,
            },
            {
              title: t('stamps.account.available'),
              key: 'available',
              render: (_, a) => {
                const n = toComplete(a.activityId)
                return (
                  <span data-testid="member-stamps-available">
                    {n ? `${a.available}/${String(n)}` : a.available}
                  </span>
                )
              },
            },
            { title: t('stamps.account.frozen'), dataIndex: 'frozen' },
            { title: t('stamps.account.earned'), dataIndex: 'earned' },
            {
              title: t('common.actions'),
              key: 'open',
              render: (_, a) => (
                <Link to={`/stamps/accounts/${a.id}`}>{t('stamps.account.open')}</Link>
              ),
            },
          ]}
        />
      )}
      {can('members.write') && running && (
        <div style={{ marginTop: 16 }}>
          <AdjustStampsForm
            merchantId={merchant.id}
            memberId={memberId}
            activities={list}
            onDone={() => {
              accounts.reload()
              setTick((n) => n + 1)
            }}
          />
        </div>
      )}
      <div style={{ marginTop: 16, fontWeight: 600 }}>{t('stamps.account.memberHolds')}</div>
      <HoldsTable key={tick} compact filter={{ memberId, status: 'held' }} activities={list} />
    </Card>
  )
}
