import { PlusOutlined } from '@ant-design/icons'
import type { AppAuthView, OnboardResult } from '@kaguan/contracts'
import { Alert, App, Button, Card, Form, Image, Input, Space, Table, Tag, Typography } from 'antd'
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { CopyText } from '../components/CopyText.js'
import { useErrorReporter, useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { formatTime } from '../lib/format.js'
import { useSession } from '../session.js'

const STATUS_COLOR: Record<AppAuthView['status'], string> = {
  pending: 'orange',
  authorised: 'green',
  revoked: 'red',
}

/** The link's QR code; the link in the query makes the browser fetch a new one when it changes. */
function qrUrl(view: AppAuthView): string {
  return `/api/merchants/${view.merchantId}/app-auth/qr.png?v=${encodeURIComponent(view.link ?? '').slice(-24)}`
}

/**
 * 商户接入: the platform admin onboards merchants through the ISV's one Alipay app (第三方应用授权):
 * create → link/QR for the owner → status (pending, authorised, withdrawn) with re-authorisation.
 */
export function OnboardingPage() {
  const { t } = useTranslation()
  const { can } = useSession()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const [form] = Form.useForm<{ name: string }>()
  const [busy, setBusy] = useState(false)
  const [created, setCreated] = useState<string>()
  const list = useLoad(
    () => api<{ items: AppAuthView[]; isvAppId: string | null }>('GET', '/api/app-auths'),
    [],
  )
  const items = list.data?.items ?? []
  const waiting = items.some((i) => i.status === 'pending')
  // While an owner is expected to authorise, the status is polled.
  useEffect(() => {
    if (!waiting) {
      return
    }
    const timer = setInterval(() => list.reload(), 3000)
    return () => clearInterval(timer)
  }, [waiting])
  const writer = can('keys.write')

  async function act(view: AppAuthView, what: 'link' | 'refresh' | 'check') {
    try {
      await api('POST', `/api/merchants/${view.merchantId}/app-auth/${what}`)
      void message.success(t('common.saved'))
      list.reload()
    } catch (e) {
      report(e)
    }
  }

  const newest = items.find((i) => i.merchantId === created)
  return (
    <>
      <PageHeader
        title={t('onboarding.title')}
        subtitle={t('onboarding.subtitle')}
        extra={
          list.data?.isvAppId ? (
            <Typography.Text type="secondary">
              {t('onboarding.isvApp')}: <Typography.Text code>{list.data.isvAppId}</Typography.Text>
            </Typography.Text>
          ) : undefined
        }
      />
      {list.data && !list.data.isvAppId && (
        <Alert
          type="warning"
          showIcon
          message={t('onboarding.isvMissing')}
          style={{ marginBottom: 16 }}
        />
      )}
      {writer && (
        <Card size="small" style={{ marginBottom: 16 }}>
          <Form
            form={form}
            layout="inline"
            disabled={!list.data?.isvAppId}
            onFinish={async (v) => {
              setBusy(true)
              try {
                const res = await api<OnboardResult>('POST', '/api/app-auths', { name: v.name })
                setCreated(res.merchant.id)
                form.resetFields()
                list.reload()
              } catch (e) {
                report(e, form)
              } finally {
                setBusy(false)
              }
            }}
          >
            <Form.Item
              name="name"
              label={t('onboarding.newMerchant')}
              rules={[{ required: true, max: 64 }]}
            >
              <Input
                placeholder={t('onboarding.namePlaceholder')}
                data-testid="onboard-name"
                style={{ width: 260 }}
              />
            </Form.Item>
            <Button
              type="primary"
              htmlType="submit"
              icon={<PlusOutlined />}
              loading={busy}
              data-testid="onboard-create"
            >
              {t('onboarding.create')}
            </Button>
          </Form>
        </Card>
      )}
      {newest?.link && (
        <Card
          size="small"
          style={{ marginBottom: 16 }}
          title={t('onboarding.created')}
          data-testid="onboard-created"
        >
          <Space align="start" size="large">
            <Image src={qrUrl(newest)} width={160} preview={false} data-testid="onboard-qr" />
            <Space direction="vertical">
              <Typography.Text strong>{newest.merchantName}</Typography.Text>
              <Tag color={STATUS_COLOR[newest.status]}>
                {t(`onboarding.status${cap(newest.status)}`)}
              </Tag>
              <CopyText text={newest.link} testId="onboard-link" />
              {newest.status === 'pending' && (
                <Typography.Text type="secondary">{t('onboarding.pendingHint')}</Typography.Text>
              )}
            </Space>
          </Space>
        </Card>
      )}
      {items.some((i) => i.status === 'revoked') && (
        <Alert
          type="error"
          showIcon
          message={t('onboarding.revokedHint')}
          style={{ marginBottom: 16 }}
        />
      )}
      {list.error ? (
        <LoadError error={list.error} onRetry={list.reload} />
      ) : (
        <Card>
          <Table<AppAuthView>
            rowKey="merchantId"
            loading={list.loading && !list.data}
            dataSource={items}
            pagination={false}
            locale={{ emptyText: t('onboarding.empty') }}
            columns={[
              { title: t('onboarding.merchant'), dataIndex: 'merchantName', width: 140 },
              {
                title: t('onboarding.status'),
                key: 'status',
                width: 120,
                render: (_, v) => (
                  <Tag
                    color={STATUS_COLOR[v.status]}
                    data-testid={`onboard-status-${v.merchantId}`}
                  >
                    {t(`onboarding.status${cap(v.status)}`)}
                  </Tag>
                ),
              },
              {
                title: t('onboarding.authApp'),
                key: 'app',
                render: (_, v) =>
                  v.authAppId ? (
                    <Space direction="vertical" size={0}>
                      <Typography.Text code>{v.authAppId}</Typography.Text>
                      <Typography.Text type="secondary">{v.authUserId}</Typography.Text>
                    </Space>
                  ) : (
                    '—'
                  ),
              },
              {
                title: t('onboarding.tokenExpires'),
                key: 'expires',
                render: (_, v) => (
                  <Space direction="vertical" size={0}>
                    <span>{v.tokenExpiresAt ? formatTime(v.tokenExpiresAt) : '—'}</span>
                    {v.refreshedAt && (
                      <Typography.Text type="secondary">
                        {t('onboarding.refreshed')}: {formatTime(v.refreshedAt)}
                      </Typography.Text>
                    )}
                  </Space>
                ),
              },
              {
                title: t('onboarding.link'),
                key: 'link',
                render: (_, v) =>
                  v.link ? (
                    <Space>
                      <Image src={qrUrl(v)} width={64} data-testid="onboard-row-qr" />
                      <Typography.Text
                        code
                        copyable={{ text: v.link }}
                        ellipsis={{ tooltip: v.link }}
                        style={{ maxWidth: 280 }}
                      >
                        {v.link}
                      </Typography.Text>
                    </Space>
                  ) : (
                    '—'
                  ),
              },
              {
                title: t('onboarding.actions'),
                key: 'actions',
                render: (_, v) =>
                  writer && (
                    <Space wrap>
                      {v.status === 'revoked' ? (
                        <Button size="small" type="primary" danger onClick={() => act(v, 'link')}>
                          {t('onboarding.reauthorise')}
                        </Button>
                      ) : (
                        <Button size="small" onClick={() => act(v, 'link')}>
                          {t('onboarding.newLink')}
                        </Button>
                      )}
                      {v.status === 'authorised' && (
                        <>
                          <Button size="small" onClick={() => act(v, 'refresh')}>
                            {t('onboarding.refresh')}
                          </Button>
                          <Button size="small" onClick={() => act(v, 'check')}>
                            {t('onboarding.check')}
                          </Button>
                        </>
                      )}
                    </Space>
                  ),
              },
            ]}
          />
        </Card>
      )}
    </>
  )
}

function cap(status: AppAuthView['status']): 'Pending' | 'Authorised' | 'Revoked' {
  return status === 'pending' ? 'Pending' : status === 'authorised' ? 'Authorised' : 'Revoked'
}
