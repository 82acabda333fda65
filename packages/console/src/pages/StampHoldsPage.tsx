import type { StampActivityView, StampHoldListItem } from '@kaguan/contracts'
import { Button, Card, Segmented, Select, Space, Table } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { api, queryString } from '../api/client.js'
import { asPage, type Page } from '../api/paged.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { HoldCountdown, HoldStatusTag, useStampActivities } from '../components/stamps.js'
import { formatTime } from '../lib/format.js'
import { useMerchant } from '../session.js'

type HoldStatus = 'held' | 'committed' | 'cancelled'

export interface HoldFilter {
  status?: HoldStatus
  activityId?: string
  exchangeActivityId?: string
  memberId?: string
}

/** A page of holds (`GET /stamp-holds`), soonest to expire first, with their countdown. */
export function HoldsTable({
  filter,
  activities,
  compact,
}: {
  filter: HoldFilter
  activities: StampActivityView[]
  compact?: boolean
}) {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const [paging, setPaging] = useState({ page: 1, pageSize: compact ? 10 : 20 })
  const key = JSON.stringify(filter)
  const list = useLoad<Page<StampHoldListItem>>(
    async () =>
      asPage(
        await api(
          'GET',
          `/api/merchants/${merchant.id}/stamp-holds${queryString({ ...filter, ...paging })}`,
        ),
        paging,
      ),
    [merchant.id, key, paging],
  )
  const name = (id: string | null) => (id ? (activities.find((a) => a.id === id)?.name ?? id) : '—')
  if (list.error) {
    return <LoadError error={list.error} onRetry={list.reload} />
  }
  return (
    <Table<StampHoldListItem>
      rowKey="id"
      size={compact ? 'small' : 'middle'}
      loading={list.loading}
      dataSource={list.data?.items ?? []}
      locale={{ emptyText: t(`stamps.holds.empty.${filter.status ?? 'held'}`) }}
      data-testid="holds-table"
      pagination={{
        current: list.data?.page ?? paging.page,
        pageSize: list.data?.pageSize ?? paging.pageSize,
        total: list.data?.total ?? 0,
        hideOnSinglePage: true,
        showTotal: (total) => t('common.total', { total }),
      }}
      onChange={(p) => setPaging({ page: p.current ?? 1, pageSize: p.pageSize ?? paging.pageSize })}
      columns={[
        ...(filter.memberId
          ? []
          : [
              {
                title: t('stamps.account.memberId'),
                dataIndex: 'memberId',
                render: (v: string, h: StampHoldListItem) => (
                  <Link to={`/stamps/accounts/${h.accountId}`}>{v}</Link>
                ),
              },
            ]),
        {
          title: t('stamps.account.activity'),
          dataIndex: 'activityId',
          render: (v: string) => <Link to={`/stamps/${v}`}>{name(v)}</Link>,
        },
        ...(filter.exchangeActivityId
          ? []
          : [
              {
                title: t('stamps.holds.exchange'),
                dataIndex: 'exchangeActivityId',
                render: (v: string | null) =>
                  v ? <Link to={`/stamps/${v}`}>{name(v)}</Link> : '—',
              },
            ]),
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
        filter.status === 'held' || !filter.status
          ? {
              title: t('stamps.holds.expiresAt'),
              dataIndex: 'expiresAt',
              render: (v: string, h: StampHoldListItem) => (
                <Space direction="vertical" size={0}>
                  <span>{formatTime(v)}</span>
                  <HoldCountdown hold={h} />
                </Space>
              ),
            }
          : {
              title: t('stamps.holds.resolvedAt'),
              dataIndex: 'resolvedAt',
              render: (v: string | null) => formatTime(v),
            },
        ...(compact
          ? []
          : [
              {
                title: t('stamps.holds.outBizNo'),
                dataIndex: 'outBizNo',
                render: (v: string | null) => <code style={{ fontSize: 12 }}>{v ?? '—'}</code>,
              },
            ]),
      ]}
    />
  )
}

/** Exchanges in progress: stamps frozen by exchanges, waiting for the coupon claim. */
export function StampHoldsPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const activities = useStampActivities(merchant.id)
  const [status, setStatus] = useState<HoldStatus>('held')
  const [activityId, setActivityId] = useState<string>()
  const [tick, setTick] = useState(0)
  return (
    <>
      <PageHeader
        title={t('stamps.holds.title')}
        subtitle={t('stamps.holds.subtitle')}
        extra={<Button onClick={() => setTick((n) => n + 1)}>{t('common.refresh')}</Button>}
      />
      <Card>
        <Space style={{ marginBottom: 16 }} wrap>
          <Segmented<HoldStatus>
            value={status}
            onChange={setStatus}
            options={(['held', 'committed', 'cancelled'] as const).map((s) => ({
              value: s,
              label: t(`stamps.holds.status.${s}`),
            }))}
            data-testid="hold-status"
          />
          <Select<string | undefined>
            style={{ width: 220 }}
            allowClear
            value={activityId}
            onChange={setActivityId}
            placeholder={t('stamps.holds.allActivities')}
            options={(activities.data ?? [])
              .filter((a) => a.type === 'POINT_SEND')
              .map((a) => ({ value: a.id, label: a.name }))}
            data-testid="hold-activity"
          />
        </Space>
        <HoldsTable
          key={`${status}-${activityId ?? ''}-${tick}`}
          filter={{ status, ...(activityId ? { activityId } : {}) }}
          activities={activities.data ?? []}
        />
      </Card>
    </>
  )
}
