import { ReloadOutlined } from '@ant-design/icons'
import { App, Badge, Button, Card, Popconfirm, Space, Table, Tabs, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api, queryString } from '../api/client.js'
import type { OutboxAnswer, OutboxItem } from '../api/types.js'
import { useErrorReporter, useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { ReconcileCard } from '../components/ReconcileCard.js'
import { formatTime } from '../lib/format.js'
import { useMerchant, useSession } from '../session.js'

type Status = 'pending' | 'parked' | 'done'

/** 同步任务: what kaguan still has to tell Alipay or the CRM, and what failed for good (parked). */
export function DeliveriesPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can, isPlatform } = useSession()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const [status, setStatus] = useState<Status>('parked')
  const [paging, setPaging] = useState({ page: 1, pageSize: 20 })
  const [selected, setSelected] = useState<string[]>([])
  const list = useLoad(
    () =>
      api<OutboxAnswer>(
        'GET',
        `/api/outbox${queryString({ status, merchantId: merchant.id, ...paging })}`,
      ),
    [status, merchant.id, paging],
  )
  async function retry(body: { ids: string[] } | { all: true }) {
    try {
      const { retried } = await api<{ retried: number }>('POST', '/api/outbox/retry', body)
      void message.success(t('deliveries.retried', { count: retried }))
      setSelected([])
      list.reload()
    } catch (e) {
      report(e)
    }
  }
  const counts = list.data?.counts ?? {}
  const tab = (s: Status) => ({
    key: s,
    label: (
      <Space>
        {t(`deliveries.status.${s}`)}
        {s !== 'done' && (
          <Badge count={counts[s] ?? 0} showZero color={s === 'parked' ? 'red' : 'blue'} />
        )}
      </Space>
    ),
  })
  return (
    <>
      <PageHeader
        title={t('deliveries.title')}
        subtitle={t('deliveries.subtitle')}
        extra={
          <Button icon={<ReloadOutlined />} onClick={list.reload}>
            {t('common.refresh')}
          </Button>
        }
      />
      <Card>
        <Tabs
          activeKey={status}
          onChange={(k) => {
            setStatus(k as Status)
            setSelected([])
            setPaging((p) => ({ ...p, page: 1 }))
          }}
          items={[tab('parked'), tab('pending'), tab('done')]}
        />
        {/* Retrying is ISV-wide (a parked delivery may be any merchant's): platform admins only. */}
        {status === 'parked' && can('settings.write') && isPlatform && (
          <Space style={{ marginBottom: 12 }}>
            <Button
              disabled={selected.length === 0}
              onClick={() => retry({ ids: selected })}
              data-testid="retry-selected"
            >
              {t('deliveries.retrySelected', { count: selected.length })}
            </Button>
            <Popconfirm
              title={t('deliveries.retryAllConfirm')}
              onConfirm={() => retry({ all: true })}
            >
              <Button type="primary" disabled={(counts.parked ?? 0) === 0}>
                {t('deliveries.retryAll')}
              </Button>
            </Popconfirm>
          </Space>
        )}
        {list.error ? (
          <LoadError error={list.error} onRetry={list.reload} />
        ) : (
          <Table<OutboxItem>
            rowKey="id"
            size="small"
            loading={list.loading}
            dataSource={list.data?.items ?? []}
            locale={{ emptyText: t(`deliveries.empty.${status}`) }}
            rowSelection={
              status === 'parked'
                ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys as string[]) }
                : undefined
            }
            pagination={{
              current: list.data?.page ?? paging.page,
              pageSize: list.data?.pageSize ?? paging.pageSize,
              total: list.data?.total ?? list.data?.items.length ?? 0,
              onChange: (page, pageSize) => setPaging({ page, pageSize }),
            }}
            columns={[
              {
                title: t('deliveries.topic'),
                dataIndex: 'topic',
                render: (v: string) => t(`deliveries.topics.${v}`, { defaultValue: v }),
              },
              { title: t('deliveries.attempts'), dataIndex: 'attempts' },
              {
                title: t('deliveries.lastError'),
                dataIndex: 'lastError',
                render: (v: string | null) =>
                  v ? <Typography.Text type="danger">{v}</Typography.Text> : '—',
              },
              {
                title: t('deliveries.nextAttempt'),
                dataIndex: 'nextAttemptAt',
                render: (v: string) => (status === 'done' ? '—' : formatTime(v)),
              },
              {
                title: t('common.createdAt'),
                dataIndex: 'createdAt',
                render: (v: string) => formatTime(v),
              },
            ]}
          />
        )}
      </Card>
      {can('settings.write') && <ReconcileCard merchantId={merchant.id} />}
    </>
  )
}
