import type { CrmTokenIssued, KeyCustodyView } from '@kaguan/contracts'
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  InputNumber,
  Popconfirm,
  Space,
  Tag,
  Typography,
} from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { formatTime } from '../lib/format.js'
import { useSession } from '../session.js'
import { CopyText } from './CopyText.js'
import { useErrorReporter, useLoad } from './hooks.js'
import { KeyInput } from './KeyInput.js'

/**
 * Key rotation (issue 14): the app private key, the CRM public key and the CRM token of a
 * merchant, each rotated with an overlap. Shown to those who may read keys; steps need keys.write.
 */
export function KeysCard({ merchantId }: { merchantId: string }) {
  const { t } = useTranslation()
  const { can } = useSession()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const loaded = useLoad(
    () => api<KeyCustodyView>('GET', `/api/merchants/${merchantId}/keys`),
    [merchantId],
  )
  const [busy, setBusy] = useState(false)
  const [issued, setIssued] = useState<string>()
  const [appForm] = Form.useForm<{ privateKey?: string }>()
  const [crmKeyForm] = Form.useForm<{ publicKey: string; overlapHours?: number }>()
  const view = loaded.data
  const writable = can('keys.write')
  const base = `/api/merchants/${merchantId}/keys`

  async function step(path: string, body?: unknown, form?: Parameters<typeof report>[1]) {
    setBusy(true)
    try {
      const answer = await api<KeyCustodyView | CrmTokenIssued>(
        'POST',
        `${base}${path}`,
        body ?? {},
      )
      if ('issuedToken' in answer) {
        setIssued(answer.issuedToken)
      }
      form?.resetFields()
      loaded.reload()
      void message.success(t('common.saved'))
    } catch (e) {
      report(e, form)
    } finally {
      setBusy(false)
    }
  }

  if (!view) {
    return <Card title={t('keys.title')} loading={loaded.loading} />
  }
  const fp = (v: string | null) => (
    <Typography.Text code>{v ? `${v.slice(0, 16)}…` : t('merchant.unset')}</Typography.Text>
  )
  return (
    <Card title={t('keys.title')} data-testid="keys-card">
      <Typography.Paragraph type="secondary">{t('keys.intro')}</Typography.Paragraph>

      <Typography.Title level={5}>{t('keys.app.title')}</Typography.Title>
      <Descriptions
        size="small"
        column={1}
        bordered
        labelStyle={{ width: 140 }}
        style={{ marginBottom: 12 }}
      >
        <Descriptions.Item label={t('keys.inUse')}>{fp(view.appKey.fingerprint)}</Descriptions.Item>
        {view.appKey.next && (
          <Descriptions.Item label={t('keys.app.staged')}>
            <Space direction="vertical" style={{ width: '100%' }}>
              <span>
                {fp(view.appKey.next.fingerprint)} <Tag color="orange">{t('keys.waiting')}</Tag>
              </span>
              <Typography.Text type="secondary">{t('keys.app.upload')}</Typography.Text>
              <CopyText text={view.appKey.next.publicKey} testId="staged-public-key" />
            </Space>
          </Descriptions.Item>
        )}
      </Descriptions>
      {view.appKey.next ? (
        <Space style={{ marginBottom: 24 }}>
          <Popconfirm
            title={t('keys.app.activateConfirm')}
            onConfirm={() => step('/app-key/activate')}
          >
            <Button type="primary" disabled={!writable} loading={busy}>
              {t('keys.app.activate')}
            </Button>
          </Popconfirm>
          <Button disabled={!writable} onClick={() => step('/app-key/discard')}>
            {t('keys.discard')}
          </Button>
        </Space>
      ) : (
        <Form
          name="keysApp"
          form={appForm}
          layout="vertical"
          disabled={!writable || !view.appKey.fingerprint}
          onFinish={(v) =>
            step(
              '/app-key',
              v.privateKey?.trim() ? { privateKey: v.privateKey.trim() } : {},
              appForm,
            )
          }
          style={{ marginBottom: 24 }}
        >
          <Form.Item
            name="privateKey"
            label={t('keys.app.ownKey')}
            extra={t('keys.app.generateHelp')}
          >
            <KeyInput />
          </Form.Item>
          <Button htmlType="submit" loading={busy}>
            {t('keys.app.stage')}
          </Button>
        </Form>
      )}

      <Typography.Title level={5}>{t('keys.crmKey.title')}</Typography.Title>
      <Descriptions
        size="small"
        column={1}
        bordered
        labelStyle={{ width: 140 }}
        style={{ marginBottom: 12 }}
      >
        <Descriptions.Item label={t('keys.inUse')}>{fp(view.crmKey.fingerprint)}</Descriptions.Item>
        {view.crmKey.old && (
          <Descriptions.Item label={t('keys.crmKey.old')}>
            {fp(view.crmKey.old.fingerprint)}{' '}
            {view.crmKey.old.accepted ? (
              <Tag color="blue">
                {t('keys.crmKey.acceptedUntil', {
                  time: formatTime(view.crmKey.old.acceptedUntil),
                })}
              </Tag>
            ) : (
              <Tag>{t('keys.crmKey.expired')}</Tag>
            )}
          </Descriptions.Item>
        )}
      </Descriptions>
      {view.crmKey.old?.accepted ? (
        <Space style={{ marginBottom: 24 }}>
          <Popconfirm
            title={t('keys.crmKey.retireConfirm')}
            onConfirm={() => step('/crm-key/retire-old')}
          >
            <Button type="primary" disabled={!writable} loading={busy}>
              {t('keys.retireOld')}
            </Button>
          </Popconfirm>
        </Space>
      ) : (
        <Form
          name="keysCrm"
          form={crmKeyForm}
          layout="vertical"
          disabled={!writable || !view.crmKey.fingerprint}
          initialValues={{ overlapHours: 168 }}
          onFinish={(v) => step('/crm-key', v, crmKeyForm)}
          style={{ marginBottom: 24 }}
        >
          <Form.Item name="publicKey" label={t('keys.crmKey.new')} rules={[{ required: true }]}>
            <KeyInput />
          </Form.Item>
          <Form.Item
            name="overlapHours"
            label={t('keys.crmKey.overlap')}
            extra={t('keys.crmKey.overlapHelp')}
          >
            <InputNumber min={1} max={2160} />
          </Form.Item>
          <Button htmlType="submit" loading={busy}>
            {t('keys.crmKey.add')}
          </Button>
        </Form>
      )}

      <Typography.Title level={5}>{t('keys.token.title')}</Typography.Title>
      {issued && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          message={t('keys.token.issuedOnce')}
          description={<CopyText text={issued} testId="issued-token" />}
          closable
          onClose={() => setIssued(undefined)}
        />
      )}
      <Descriptions
        size="small"
        column={1}
        bordered
        labelStyle={{ width: 140 }}
        style={{ marginBottom: 12 }}
      >
        <Descriptions.Item label={t('keys.inUse')}>
          {view.crmToken.set ? t('merchant.set') : t('merchant.unset')}
        </Descriptions.Item>
        {view.crmToken.next && (
          <Descriptions.Item label={t('keys.token.next')}>
            <Space direction="vertical">
              <span>
                {t('keys.token.issuedAt', { time: formatTime(view.crmToken.next.issuedAt) })}
              </span>
              {view.crmToken.next.seenAt ? (
                <Tag color="green" data-testid="token-seen">
                  {t('keys.token.seen', { time: formatTime(view.crmToken.next.seenAt) })}
                </Tag>
              ) : (
                <Tag color="orange">{t('keys.token.notSeen')}</Tag>
              )}
            </Space>
          </Descriptions.Item>
        )}
      </Descriptions>
      {view.crmToken.next ? (
        <Space>
          <Popconfirm
            title={t('keys.token.retireConfirm')}
            onConfirm={() => step('/crm-token/retire-old')}
          >
            <Button type="primary" disabled={!writable} loading={busy}>
              {t('keys.retireOld')}
            </Button>
          </Popconfirm>
          <Button disabled={!writable} onClick={() => step('/crm-token/discard')}>
            {t('keys.token.discard')}
          </Button>
        </Space>
      ) : (
        <Button
          disabled={!writable || !view.crmToken.set}
          loading={busy}
          onClick={() => step('/crm-token')}
        >
          {t('keys.token.issue')}
        </Button>
      )}
    </Card>
  )
}
