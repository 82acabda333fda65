import { PlusOutlined } from '@ant-design/icons'
import type { StampActivityView } from '@kaguan/contracts'
import { Button, Card, Select, Space, Table } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router-dom'
import { get, queryString } from '../api/client.js'
import { listAll } from '../api/paged.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { StampStatusTag, StampTypeTag } from '../components/stamps.js'
import { formatTime } from '../lib/format.js'
import { useMerchant, useSession } from '../session.js'

type Status = StampActivityView['status']
type Type = StampActivityView['type']

export function StampActivitiesPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const navigate = useNavigate()
  const [status, setStatus] = useState<Status>()
  const [type, setType] = useState<Type>()
  const list = useLoad(
    () =>
      listAll<StampActivityView>(
        get,
        `/api/merchants/${merchant.id}/stamp-activities${queryString({ status, type })}`,
      ),
    [merchant.id, status, type],
  )
  const filtered = status !== undefined || type !== undefined
  return (
    <>
      <PageHeader
        title={t('stamps.title')}
        subtitle={t('stamps.subtitle')}
        extra={
          can('templates.write') && (
            <>
              <Button
                type="primary"
                icon={<PlusOutlined />}
                onClick={() => navigate('/stamps/new/POINT_SEND')}
                data-testid="new-stamp-activity"
              >
                {t('stamps.newStamp')}
              </Button>
              <Button
                icon={<PlusOutlined />}
                onClick={() => navigate('/stamps/new/DIRECT_SEND')}
                data-testid="new-exchange-activity"
              >
                {t('stamps.newExchange')}
              </Button>
            </>
          )
        }
      />
      <Card>
        <Space style={{ marginBottom: 16 }} wrap>
          <Select<Status | undefined>
            style={{ width: 160 }}
            value={status}
            allowClear
            placeholder={t('stamps.allStatuses')}
            onChange={setStatus}
            options={(['draft', 'published', 'ended'] as const).map((s) => ({
              value: s,
              label: t(`stamps.status.${s}`),
            }))}
            data-testid="stamp-status-filter"
          />
          <Select<Type | undefined>
            style={{ width: 160 }}
            value={type}
            allowClear
            placeholder={t('stamps.allTypes')}
            onChange={setType}
            options={(['POINT_SEND', 'DIRECT_SEND'] as const).map((s) => ({
              value: s,
              label: t(`stamps.types.${s}`),
            }))}
          />
        </Space>
        {list.error ? (
          <LoadError error={list.error} onRetry={list.reload} />
        ) : (
          <Table<StampActivityView>
            rowKey="id"
            loading={list.loading}
            dataSource={list.data ?? []}
            locale={{ emptyText: filtered ? t('stamps.emptyFiltered') : t('stamps.empty') }}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            columns={[
              {
                title: t('stamps.name'),
                key: 'name',
                render: (_, a) => (
                  <Link to={`/stamps/${a.id}`} data-testid="stamp-activity-link">
                    {a.name}
                  </Link>
                ),
              },
              {
                title: t('stamps.type'),
                dataIndex: 'type',
                render: (v: Type) => <StampTypeTag type={v} />,
              },
              {
                title: t('stamps.statusLabel'),
                dataIndex: 'status',
                render: (v: Status) => <StampStatusTag status={v} />,
              },
              {
                title: t('stamps.period'),
                key: 'period',
                render: (_, a) =>
                  `${formatTime(a.spec.startTime as string).slice(0, 10)} ~ ${formatTime(
                    a.spec.endTime as string,
                  ).slice(0, 10)}`,
              },
              {
                title: `${t('stamps.stampsToComplete')} / ${t('stamps.stampsPerVoucher')}`,
                key: 'stamps',
                render: (_, a) =>
                  String(
                    (a.type === 'POINT_SEND' ? a.spec.stampsToComplete : a.spec.stampsPerVoucher) ??
                      '—',
                  ),
              },
              {
                title: t('stamps.publishedAt'),
                dataIndex: 'publishedAt',
                render: (v: string | null) => formatTime(v),
              },
              {
                title: t('common.actions'),
                key: 'actions',
                render: (_, a) => (
                  <Space>
                    <Button size="small" onClick={() => navigate(`/stamps/${a.id}`)}>
                      {t('common.open')}
                    </Button>
                    {can('templates.write') && a.status === 'draft' && (
                      <Button size="small" onClick={() => navigate(`/stamps/${a.id}/edit`)}>
                        {t('common.edit')}
                      </Button>
                    )}
                  </Space>
                ),
              },
            ]}
          />
        )}
      </Card>
    </>
  )
}
