import type {
  StampAccountView,
  StampActivityView,
  StampEntryView,
  StampHoldView,
} from '@kaguan/contracts'
import { Card, Space, Spin, Statistic, Table, Tag } from 'antd'
import { useTranslation } from 'react-i18next'
import { Link, useParams } from 'react-router-dom'
import { api } from '../api/client.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import {
  AdjustStampsForm,
  EntryTypeTag,
  HoldCountdown,
  HoldStatusTag,
  useStampActivities,
} from '../components/stamps.js'
import { formatTime } from '../lib/format.js'
import { entryEffect } from '../lib/stamps.js'
import { useMerchant, useSession } from '../session.js'

interface History {
  account: StampAccountView
  entries: StampEntryView[]
  holds: StampHoldView[]
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n))

/** One member's stamps in one activity: balances, the ledger entry by entry, the holds. */
export function StampAccountPage() {
  const { accountId } = useParams()
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const history = useLoad(
    () => api<History>('GET', `/api/merchants/${merchant.id}/stamp-accounts/${accountId}`),
    [merchant.id, accountId],
  )
  const activities = useStampActivities(merchant.id)
  if (history.error) {
    return <LoadError error={history.error} onRetry={history.reload} />
  }
  if (!history.data) {
    return <Spin />
  }
  const { account, entries, holds } = history.data
  const activity: StampActivityView | undefined = activities.data?.find(
    (a) => a.id === account.activityId,
  )
  const name = (id: string | null) =>
    id ? (activities.data?.find((a) => a.id === id)?.name ?? id) : '—'
  return (
    <>
      <PageHeader
        title={t('stamps.account.title')}
        subtitle={
          <>
            <Link to={`/stamps/${account.activityId}`}>{activity?.name ?? account.activityId}</Link>
            {' · '}
            {t('stamps.account.memberId')} <code>{account.memberId}</code>
          </>
        }
      />
      <Space direction="vertical" size="middle" style={{ width: '100%' }}>
        <Card size="small">
          <Space size={48} wrap>
            {(['available', 'frozen', 'total', 'earned'] as const).map((k) => (
              <Statistic
                key={k}
                title={t(`stamps.account.${k}`)}
                value={account[k]}
                suffix={
                  k === 'available' && activity?.spec.stampsToComplete
                    ? `/ ${String(activity.spec.stampsToComplete)}`
                    : undefined
                }
                valueRender={(node) => <span data-testid={`account-${k}`}>{node}</span>}
              />
            ))}
          </Space>
        </Card>
        {can('members.write') && activity?.status === 'published' && (
          <Card size="small" title={t('stamps.adjust.title')}>
            <AdjustStampsForm
              merchantId={merchant.id}
              memberId={account.memberId}
              activityId={account.activityId}
              activities={activities.data ?? []}
              onDone={history.reload}
            />
          </Card>
        )}
        <Card size="small" title={t('stamps.account.ledger')}>
          <Table<StampEntryView>
            rowKey="id"
            size="small"
            dataSource={[...entries].reverse()}
            locale={{ emptyText: t('stamps.account.ledgerEmpty') }}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            data-testid="ledger"
            scroll={{ x: 'max-content' }}
            columns={[
              { title: t('stamps.account.seq'), dataIndex: 'seq', width: 64 },
              {
                title: t('audit.at'),
                dataIndex: 'createdAt',
                render: (v: string) => (
                  <span style={{ whiteSpace: 'nowrap' }}>{formatTime(v)}</span>
                ),
              },
              {
                title: t('stamps.account.entryType'),
                dataIndex: 'type',
                render: (v: string) => <EntryTypeTag type={v} />,
              },
              {
                title: t('stamps.account.amount'),
                key: 'amount',
                render: (_, e) => {
                  const effect = entryEffect(e)
                  const n = effect.available !== 0 ? effect.available : effect.frozen
                  return (
                    <Space size={4}>
                      <Tag color={n >= 0 ? 'green' : 'red'}>{signed(n)}</Tag>
                      {e.shortfall > 0 && (
                        <Tag color="warning">
                          {t('stamps.account.shortfall', { count: e.shortfall })}
                        </Tag>
                      )}
                    </Space>
                  )
                },
              },
              { title: t('stamps.account.availableAfter'), dataIndex: 'availableAfter' },
              { title: t('stamps.account.frozenAfter'), dataIndex: 'frozenAfter' },
              { title: t('stamps.account.reason'), dataIndex: 'reason' },
              {
                title: t('stamps.account.source'),
                dataIndex: 'source',
                render: (v: string) => t(`stamps.account.sources.${v}`, { defaultValue: v }),
              },
              {
                title: t('stamps.account.actor'),
                dataIndex: 'actor',
                width: 160,
                ellipsis: { showTitle: true },
              },
            ]}
          />
        </Card>
        <Card size="small" title={t('stamps.account.holds')}>
          <Table<StampHoldView>
            rowKey="id"
            size="small"
            dataSource={[...holds].reverse()}
            locale={{ emptyText: t('stamps.account.holdsEmpty') }}
            pagination={{ pageSize: 10, hideOnSinglePage: true }}
            columns={[
              {
                title: t('stamps.holds.exchange'),
                dataIndex: 'exchangeActivityId',
                render: (v: string | null) => name(v),
              },
              { title: t('stamps.holds.amount'), dataIndex: 'amount' },
              {
                title: t('stamps.statusLabel'),
                dataIndex: 'status',
                render: (v: string) => <HoldStatusTag status={v} />,
              },
              {
                title: t('stamps.holds.createdAt'),
                dataIndex: 'createdAt',
                render: (v: string) => formatTime(v),
              },
              {
                title: t('stamps.holds.expiresAt'),
                dataIndex: 'expiresAt',
                render: (v: string, h) => (
                  <Space size={4}>
                    {formatTime(v)}
                    <HoldCountdown hold={h} />
                  </Space>
                ),
              },
              {
                title: t('stamps.holds.resolvedAt'),
                dataIndex: 'resolvedAt',
                render: (v: string | null) => formatTime(v),
              },
            ]}
          />
        </Card>
      </Space>
    </>
  )
}
