import type {
  ExchangeActivitySpec,
  ShopView,
  StampAccountView,
  StampActivitySpec,
  StampActivityView,
} from '@kaguan/contracts'
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Popconfirm,
  Progress,
  Space,
  Spin,
  Table,
} from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate, useParams } from 'react-router-dom'
import { api, ApiError, get, queryString } from '../api/client.js'
import { asPage, listAll } from '../api/paged.js'
import { CopyText } from '../components/CopyText.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { StampStatusTag, StampTypeTag } from '../components/stamps.js'
import { formatTime } from '../lib/format.js'
import { stampPublishAdvice } from '../lib/stamps.js'
import { useMerchant, useSession } from '../session.js'
import { HoldsTable } from './StampHoldsPage.js'

export function StampActivityDetailPage() {
  const { activityId } = useParams()
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const navigate = useNavigate()
  const { message } = App.useApp()
  const base = `/api/merchants/${merchant.id}`
  const loaded = useLoad(async () => {
    const [activity, shops, activities] = await Promise.all([
      api<StampActivityView>('GET', `${base}/stamp-activities/${activityId}`),
      listAll<ShopView>(get, `${base}/shops`),
      listAll<StampActivityView>(get, `${base}/stamp-activities`),
    ])
    return { activity, shops, activities }
  }, [activityId, merchant.id])
  const [busy, setBusy] = useState<'publish' | 'end'>()
  const [failure, setFailure] = useState<ApiError>()

  if (loaded.error) {
    return <LoadError error={loaded.error} onRetry={loaded.reload} />
  }
  if (!loaded.data) {
    return <Spin />
  }
  const { activity, shops, activities } = loaded.data
  const shopName = (id: string) => shops.find((s) => s.id === id)?.name ?? id
  const spec = activity.spec

  async function change(action: 'publish' | 'end') {
    setBusy(action)
    setFailure(undefined)
    try {
      await api('POST', `${base}/stamp-activities/${activity.id}/${action}`)
      void message.success(
        t(action === 'publish' ? 'stamps.detail.published' : 'stamps.detail.ended'),
      )
      loaded.reload()
    } catch (e) {
      setFailure(e instanceof ApiError ? e : new ApiError(0, { message: String(e) }))
    } finally {
      setBusy(undefined)
    }
  }

  const advice = failure
    ? stampPublishAdvice(failure, (i) => {
        const id = (spec.shopIds as string[] | undefined)?.[i]
        return id ? shopName(id) : undefined
      })
    : []
  const exchangeUrl =
    activity.type === 'DIRECT_SEND' && merchant.publicBaseUrl
      ? `${merchant.publicBaseUrl.replace(/\/$/, '')}/stamps/exchange/${activity.id}`
      : undefined

  return (
    <>
      <PageHeader
        title={activity.name}
        subtitle={
          <Space>
            <StampTypeTag type={activity.type} />
            <StampStatusTag status={activity.status} />
          </Space>
        }
        extra={
          <>
            {can('templates.write') && activity.status === 'draft' && (
              <Button
                onClick={() => navigate(`/stamps/${activity.id}/edit`)}
                data-testid="edit-stamp-activity"
              >
                {t('common.edit')}
              </Button>
            )}
            {can('templates.publish') && activity.status === 'draft' && (
              <Popconfirm
                title={t('stamps.detail.publishConfirm')}
                description={t('stamps.detail.publishConfirmHelp')}
                onConfirm={() => change('publish')}
                okText={t('stamps.detail.publish')}
                cancelText={t('common.cancel')}
              >
                <Button
                  type="primary"
                  loading={busy === 'publish'}
                  data-testid="publish-stamp-activity"
                >
                  {t('stamps.detail.publish')}
                </Button>
              </Popconfirm>
            )}
            {can('templates.publish') && activity.status === 'published' && (
              <Popconfirm
                title={t('stamps.detail.endConfirm')}
                onConfirm={() => change('end')}
                okText={t('stamps.detail.end')}
                cancelText={t('common.cancel')}
                okButtonProps={{ danger: true }}
              >
                <Button danger loading={busy === 'end'} data-testid="end-stamp-activity">
                  {t('stamps.detail.end')}
                </Button>
              </Popconfirm>
            )}
          </>
        }
      />
      <Space direction="vertical" size="middle" style={{ width: '100%' }}>
        {failure && (
          <Alert
            type="error"
            showIcon
            data-testid="stamp-publish-failure"
            message={`${t('stamps.detail.publishFailed')} (${failure.errcode})`}
            description={
              <>
                <div>{failure.message}</div>
                {advice.map((a) => (
                  <div key={a.key + JSON.stringify(a.values)} style={{ marginTop: 8 }}>
                    <b>{t('stamps.detail.whatToDo')}</b> {t(a.key, a.values)}
                  </div>
                ))}
              </>
            }
          />
        )}
        <Card size="small" title={t('stamps.detail.settings')}>
          {activity.type === 'POINT_SEND' ? (
            <StampSettings spec={spec as StampActivitySpec} shopName={shopName} />
          ) : (
            <ExchangeSettings
              spec={spec as ExchangeActivitySpec}
              shopName={shopName}
              stampName={(id) => activities.find((a) => a.id === id)?.name ?? id}
              holdTtlSeconds={activity.holdTtlSeconds}
            />
          )}
        </Card>
        <Card size="small" title={t('stamps.detail.koubei')}>
          {activity.koubei ? (
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('stamps.detail.campId')}>
                <span data-testid="koubei-camp-id">{activity.koubei.campId}</span>
              </Descriptions.Item>
              {activity.koubei.itemId && (
                <Descriptions.Item label={t('stamps.detail.itemId')}>
                  {activity.koubei.itemId}
                </Descriptions.Item>
              )}
              {activity.koubei.couponUrl && (
                <Descriptions.Item label={t('stamps.detail.couponUrl')}>
                  <CopyText text={activity.koubei.couponUrl} />
                </Descriptions.Item>
              )}
              {exchangeUrl && (
                <Descriptions.Item label={t('stamps.detail.exchangeUrl')}>
                  <Space direction="vertical" size={0}>
                    <CopyText text={exchangeUrl} testId="exchange-url" />
                    <span style={{ color: '#888' }}>{t('stamps.detail.exchangeUrlHelp')}</span>
                  </Space>
                </Descriptions.Item>
              )}
              <Descriptions.Item label={t('stamps.publishedAt')}>
                {formatTime(activity.publishedAt)}
              </Descriptions.Item>
              {activity.endedAt && (
                <Descriptions.Item label={t('stamps.endedAt')}>
                  {formatTime(activity.endedAt)}
                </Descriptions.Item>
              )}
            </Descriptions>
          ) : (
            <span style={{ color: '#888' }}>
              {activity.status === 'draft'
                ? t('stamps.detail.koubeiAfterPublish')
                : t('stamps.detail.notMirrored')}
            </span>
          )}
        </Card>
        {activity.type === 'POINT_SEND' && activity.status !== 'draft' && can('members.read') && (
          <AccountsCard activity={activity} />
        )}
        {activity.type === 'DIRECT_SEND' && activity.status !== 'draft' && can('members.read') && (
          <Card size="small" title={t('stamps.detail.exchanges')}>
            <HoldsTable
              filter={{ exchangeActivityId: activity.id, status: 'held' }}
              activities={activities}
            />
          </Card>
        )}
      </Space>
    </>
  )
}

function StampSettings({
  spec,
  shopName,
}: {
  spec: StampActivitySpec
  shopName: (id: string) => string
}) {
  const { t } = useTranslation()
  const rule = spec.rule ?? {}
  const parts = [
    rule.perAmountStep
      ? t('stamps.rule.summaryStep', rule.perAmountStep)
      : t('stamps.rule.oneAStamp'),
    rule.minAmount ? t('stamps.rule.summaryMin', { amount: rule.minAmount }) : undefined,
    rule.maxPerDay ? t('stamps.rule.summaryMax', { count: rule.maxPerDay }) : undefined,
  ].filter(Boolean)
  return (
    <Descriptions column={{ xs: 1, md: 2 }} size="small">
      <Descriptions.Item label={t('stamps.period')}>
        {formatTime(spec.startTime)} ~ {formatTime(spec.endTime)}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.stampsToComplete')}>
        {spec.stampsToComplete}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.card.name')}>{spec.card?.name}</Descriptions.Item>
      <Descriptions.Item label={t('stamps.card.description')}>
        {spec.card?.description}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.sections.rule')}>
        <span data-testid="stamp-rule">{parts.join('，')}</span>
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.rule.shopIds')}>
        {(rule.shopIds?.length ? rule.shopIds : spec.shopIds).map(shopName).join('、')}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.shops')}>
        {spec.shopIds.map(shopName).join('、')}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.mirrorToKoubei')}>
        {spec.mirrorToKoubei === false ? '✗' : '✓'}
      </Descriptions.Item>
      {spec.description && (
        <Descriptions.Item label={t('stamps.description')}>{spec.description}</Descriptions.Item>
      )}
    </Descriptions>
  )
}

function ExchangeSettings({
  spec,
  shopName,
  stampName,
  holdTtlSeconds,
}: {
  spec: ExchangeActivitySpec
  shopName: (id: string) => string
  stampName: (id: string) => string
  holdTtlSeconds: number
}) {
  const { t } = useTranslation()
  const v = spec.voucher
  return (
    <Descriptions column={{ xs: 1, md: 2 }} size="small">
      <Descriptions.Item label={t('stamps.period')}>
        {formatTime(spec.startTime)} ~ {formatTime(spec.endTime)}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.stampActivity')}>
        <Link to={`/stamps/${spec.stampActivityId}`}>{stampName(spec.stampActivityId)}</Link>
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.stampsPerVoucher')}>
        {spec.stampsPerVoucher}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.holdTtlMinutes')}>
        {Math.round(holdTtlSeconds / 60)}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.voucher.name')}>
        {v.name}（{t(`stamps.voucher.types.${v.type}`)}）
      </Descriptions.Item>
      <Descriptions.Item
        label={v.type === 'RATE' ? t('stamps.voucher.rate') : t('stamps.voucher.worth')}
      >
        {v.type === 'RATE' ? v.rate : `¥${v.worth ?? '—'}`}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.voucher.minConsume')}>
        {v.minConsume ? `¥${v.minConsume}` : '—'}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.voucher.validity')}>
        {v.validity.type === 'RELATIVE'
          ? t('stamps.voucher.validDays', { days: v.validity.days })
          : `${formatTime(v.validity.startTime)} ~ ${formatTime(v.validity.endTime)}`}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.budget')}>{spec.budget}</Descriptions.Item>
      <Descriptions.Item label={t('stamps.allowRepeatSend')}>
        {spec.allowRepeatSend ? '✓' : '✗'}
      </Descriptions.Item>
      <Descriptions.Item label={t('stamps.shops')}>
        {spec.shopIds.map(shopName).join('、')}
      </Descriptions.Item>
    </Descriptions>
  )
}

function AccountsCard({ activity }: { activity: StampActivityView }) {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const toComplete = Number(activity.spec.stampsToComplete ?? 0)
  // Paged by the server: an activity can have as many accounts as the merchant has members.
  const [paging, setPaging] = useState({ page: 1, pageSize: 20 })
  const accounts = useLoad(
    async () =>
      asPage<StampAccountView>(
        await get(
          `/api/merchants/${merchant.id}/stamp-accounts${queryString({ activityId: activity.id, ...paging })}`,
        ),
        paging,
      ),
    [merchant.id, activity.id, paging],
  )
  return (
    <Card size="small" title={t('stamps.detail.accounts')}>
      {accounts.error ? (
        <LoadError error={accounts.error} onRetry={accounts.reload} />
      ) : (
        <Table<StampAccountView>
          rowKey="id"
          size="small"
          loading={accounts.loading}
          dataSource={accounts.data?.items ?? []}
          locale={{ emptyText: t('stamps.detail.accountsEmpty') }}
          data-testid="stamp-accounts-table"
          pagination={{
            current: accounts.data?.page ?? paging.page,
            pageSize: accounts.data?.pageSize ?? paging.pageSize,
            total: accounts.data?.total ?? 0,
            hideOnSinglePage: true,
            showTotal: (total) => t('common.total', { total }),
          }}
          onChange={(p) =>
            setPaging({ page: p.current ?? 1, pageSize: p.pageSize ?? paging.pageSize })
          }
          columns={[
            {
              title: t('stamps.account.memberId'),
              dataIndex: 'memberId',
              render: (v: string, a) => (
                <Link to={`/stamps/accounts/${a.id}`} data-testid="stamp-account-link">
                  {v}
                </Link>
              ),
            },
            {
              title: t('stamps.account.progress'),
              key: 'progress',
              render: (_, a) =>
                toComplete > 0 ? (
                  <Progress
                    style={{ width: 140, margin: 0 }}
                    size="small"
                    percent={Math.min(100, Math.round((a.available / toComplete) * 100))}
                    format={() => `${a.available}/${toComplete}`}
                  />
                ) : (
                  a.available
                ),
            },
            { title: t('stamps.account.available'), dataIndex: 'available' },
            { title: t('stamps.account.frozen'), dataIndex: 'frozen' },
            { title: t('stamps.account.total'), dataIndex: 'total' },
            { title: t('stamps.account.earned'), dataIndex: 'earned' },
            {
              title: t('common.updatedAt'),
              dataIndex: 'updatedAt',
              render: (v: string) => formatTime(v),
            },
            {
              title: t('common.actions'),
              key: 'actions',
              render: (_, a) => (
                <Link to={`/stamps/accounts/${a.id}`}>{t('stamps.account.open')}</Link>
              ),
            },
          ]}
        />
      )}
    </Card>
  )
}
