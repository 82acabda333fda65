import type { AlipayAppBody, CrmBody, CrmTestResult, MerchantView } from '@kaguan/contracts'
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  List,
  Radio,
  Select,
  Space,
  Switch,
  Tag,
  Typography,
} from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { CopyText } from '../components/CopyText.js'
import { useErrorReporter } from '../components/hooks.js'
import { KeyInput } from '../components/KeyInput.js'
import { KeysCard } from '../components/KeysCard.js'
import { PageHeader } from '../components/PageHeader.js'
import { gatewayFromForm, gatewayToForm, type GatewayKind } from '../lib/merchant-form.js'
import { useMerchant, useSession } from '../session.js'

export function MerchantPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  return (
    <>
      <PageHeader title={t('merchant.title')} subtitle={t('merchant.subtitle')} />
      <Space direction="vertical" size="large" style={{ width: '100%' }}>
        <CertExpiryBanner merchant={merchant} />
        <AlipayCard merchant={merchant} />
        <PublicUrlCard merchant={merchant} />
        <MessageChannelCard merchant={merchant} />
        <CrmCard merchant={merchant} />
        {can('keys.read') && <KeysCard merchantId={merchant.id} />}
      </Space>
    </>
  )
}

/** Cert mode: a warning before (and after) the first of the app's certificates expires. */
export function CertExpiryBanner({ merchant }: { merchant: MerchantView }) {
  const { t } = useTranslation()
  const certs = merchant.alipay.certificates
  if (!certs?.expiresSoon) {
    return null
  }
  const date = certs.expiresAt.slice(0, 10)
  const expired = Date.parse(certs.expiresAt) <= Date.now()
  return (
    <Alert
      type={expired ? 'error' : 'warning'}
      showIcon
      data-testid="cert-expiry-banner"
      message={t(expired ? 'merchant.alipay.certExpired' : 'merchant.alipay.certExpiring', {
        date,
      })}
    />
  )
}

function useSaver() {
  const { reloadMerchants } = useSession()
  const { message } = App.useApp()
  const { t } = useTranslation()
  const report = useErrorReporter()
  const [busy, setBusy] = useState(false)
  async function save(form: Parameters<typeof report>[1], run: () => Promise<unknown>) {
    setBusy(true)
    try {
      await run()
      await reloadMerchants()
      void message.success(t('common.saved'))
    } catch (e) {
      report(e, form)
    } finally {
      setBusy(false)
    }
  }
  return { busy, save }
}

interface AlipayForm {
  appId: string
  privateKey?: string
  alipayPublicKey?: string
  gatewayKind: GatewayKind
  gatewayUrl?: string
  appAuthToken?: string
  signMode: 'key' | 'cert'
  charset: 'utf-8' | 'GBK'
  appCert?: string
  alipayPublicCert?: string
  alipayRootCert?: string
}

function AlipayCard({ merchant }: { merchant: MerchantView }) {
  const { t } = useTranslation()
  const { can } = useSession()
  const [form] = Form.useForm<AlipayForm>()
  const { busy, save } = useSaver()
  const kind = Form.useWatch('gatewayKind', form)
  const signMode = Form.useWatch('signMode', form) ?? merchant.alipay.signMode
  const a = merchant.alipay
  return (
    <Card
      title={t('merchant.alipay.title')}
      extra={
        a.configured ? (
          <Tag color="green">{t('merchant.configured')}</Tag>
        ) : (
          <Tag color="orange">{t('merchant.notConfigured')}</Tag>
        )
      }
    >
      {a.configured && (
        <Descriptions size="small" column={1} bordered style={{ marginBottom: 16 }}>
          <Descriptions.Item label={t('merchant.alipay.appId')}>{a.appId}</Descriptions.Item>
          <Descriptions.Item label={t('merchant.alipay.gateway')}>
            {a.gatewayUrl ?? a.gateway}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchant.alipay.privateKeyFingerprint')}>
            <Typography.Text code data-testid="private-key-fingerprint">
              {a.privateKeyFingerprint ?? t('merchant.hidden')}
            </Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label={t('merchant.alipay.alipayPublicKeyFingerprint')}>
            <Typography.Text code>
              {a.alipayPublicKeyFingerprint ?? t('merchant.hidden')}
            </Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label={t('merchant.alipay.appAuthToken')}>
            {a.appAuthTokenSet ? t('merchant.set') : t('merchant.unset')}
          </Descriptions.Item>
          <Descriptions.Item label={t('merchant.alipay.signMode')}>
            {a.signMode === 'cert'
              ? t('merchant.alipay.signModeCert')
              : t('merchant.alipay.signModeKey')}{' '}
            · {t('merchant.alipay.charset')} {a.charset}
          </Descriptions.Item>
          {a.certificates &&
            (
              [
                ['certAppCert', a.certificates.appCert],
                ['certAlipayCert', a.certificates.alipayCert],
                ['certRootCert', a.certificates.rootCert],
              ] as const
            ).map(([label, cert]) => (
              <Descriptions.Item key={label} label={t(`merchant.alipay.${label}`)}>
                <Space direction="vertical" size={0}>
                  <span>
                    {t('merchant.alipay.certSn')}{' '}
                    <Typography.Text code data-testid={`sn-${label}`}>
                      {cert.sn}
                    </Typography.Text>
                  </span>
                  <span>
                    {t('merchant.alipay.certExpires')} {cert.notAfter.slice(0, 10)}
                  </span>
                </Space>
              </Descriptions.Item>
            ))}
        </Descriptions>
      )}
      <Form
        form={form}
        layout="vertical"
        disabled={!can('keys.write')}
        initialValues={{
          appId: a.appId ?? '',
          signMode: a.signMode,
          charset: a.charset,
          ...gatewayToForm(a.gateway),
        }}
        onFinish={(v) =>
          save(form, () => {
            const body: AlipayAppBody = {
              appId: v.appId.trim(),
              gateway: gatewayFromForm(v.gatewayKind, v.gatewayUrl),
              ...(v.privateKey?.trim() ? { privateKey: v.privateKey.trim() } : {}),
              ...(v.signMode === 'key' && v.alipayPublicKey?.trim()
                ? { alipayPublicKey: v.alipayPublicKey.trim() }
                : {}),
              ...(v.appAuthToken !== undefined ? { appAuthToken: v.appAuthToken.trim() } : {}),
              signMode: v.signMode,
              charset: v.charset,
              ...(v.signMode === 'cert' && v.appCert?.trim() ? { appCert: v.appCert.trim() } : {}),
              ...(v.signMode === 'cert' && v.alipayPublicCert?.trim()
                ? { alipayPublicCert: v.alipayPublicCert.trim() }
                : {}),
              ...(v.signMode === 'cert' && v.alipayRootCert?.trim()
                ? { alipayRootCert: v.alipayRootCert.trim() }
                : {}),
            }
            return api('PUT', `/api/merchants/${merchant.id}/alipay`, body).then(() =>
              form.setFieldsValue({
                privateKey: '',
                alipayPublicKey: '',
                appCert: '',
                alipayPublicCert: '',
                alipayRootCert: '',
              }),
            )
          })
        }
      >
        <Form.Item
          name="appId"
          label={t('merchant.alipay.appId')}
          extra={t('merchant.alipay.appIdHelp')}
          rules={[{ required: true, pattern: /^\d{16}$/, message: t('merchant.alipay.appIdRule') }]}
        >
          <Input maxLength={16} style={{ maxWidth: 280 }} />
        </Form.Item>
        <Form.Item
          name="privateKey"
          label={t('merchant.alipay.privateKey')}
          extra={
            a.privateKeyFingerprint
              ? t('merchant.keepWhenEmpty')
              : t('merchant.alipay.privateKeyHelp')
          }
          rules={[{ required: !a.configured, message: t('merchant.alipay.privateKeyRequired') }]}
        >
          <KeyInput placeholder="-----BEGIN PRIVATE KEY-----" />
        </Form.Item>
        <Form.Item name="signMode" label={t('merchant.alipay.signMode')}>
          <Radio.Group data-testid="sign-mode">
            <Radio value="key">{t('merchant.alipay.signModeKey')}</Radio>
            <Radio value="cert">{t('merchant.alipay.signModeCert')}</Radio>
          </Radio.Group>
        </Form.Item>
        {signMode === 'cert' ? (
          (['appCert', 'alipayPublicCert', 'alipayRootCert'] as const).map((field) => (
            <Form.Item
              key={field}
              name={field}
              label={t(`merchant.alipay.${field}`)}
              extra={a.certificates ? t('merchant.keepWhenEmpty') : undefined}
              rules={[{ required: !a.certificates, message: t('merchant.alipay.certRequired') }]}
            >
              <KeyInput placeholder="-----BEGIN CERTIFICATE-----" />
            </Form.Item>
          ))
        ) : (
          <Form.Item
            name="alipayPublicKey"
            label={t('merchant.alipay.alipayPublicKey')}
            extra={
              a.alipayPublicKeyFingerprint
                ? t('merchant.keepWhenEmpty')
                : t('merchant.alipay.alipayPublicKeyHelp')
            }
            rules={[
              { required: !a.configured, message: t('merchant.alipay.alipayPublicKeyRequired') },
            ]}
          >
            <KeyInput placeholder="MIIBIjANBgkqh..." />
          </Form.Item>
        )}
        <Form.Item name="charset" label={t('merchant.alipay.charset')}>
          <Radio.Group>
            <Radio value="utf-8">UTF-8</Radio>
            <Radio value="GBK">GBK</Radio>
          </Radio.Group>
        </Form.Item>
        <Form.Item name="gatewayKind" label={t('merchant.alipay.gateway')}>
          <Radio.Group>
            <Radio value="production">{t('merchant.alipay.production')}</Radio>
            <Radio value="sandbox">{t('merchant.alipay.sandbox')}</Radio>
            <Radio value="url">{t('merchant.alipay.customUrl')}</Radio>
          </Radio.Group>
        </Form.Item>
        {kind === 'url' && (
          <Form.Item
            name="gatewayUrl"
            label={t('merchant.alipay.gatewayUrl')}
            rules={[
              {
                required: true,
                pattern: /^https?:\/\//,
                message: t('merchant.alipay.gatewayUrlRule'),
              },
            ]}
          >
            <Input placeholder="http://127.0.0.1:8090/gateway.do" />
          </Form.Item>
        )}
        <Form.Item
          name="appAuthToken"
          label={t('merchant.alipay.appAuthToken')}
          extra={t('merchant.alipay.appAuthTokenHelp')}
        >
          <Input.Password autoComplete="off" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="save-alipay">
          {t('common.save')}
        </Button>
      </Form>
    </Card>
  )
}

function PublicUrlCard({ merchant }: { merchant: MerchantView }) {
  const { t } = useTranslation()
  const { can } = useSession()
  const [form] = Form.useForm<{ publicBaseUrl: string }>()
  const { busy, save } = useSaver()
  return (
    <Card title={t('merchant.publicUrl.title')}>
      <Form
        form={form}
        layout="vertical"
        disabled={!can('settings.write')}
        initialValues={{ publicBaseUrl: merchant.publicBaseUrl ?? '' }}
        onFinish={(v) =>
          save(form, () =>
            api('PUT', `/api/merchants/${merchant.id}/public-url`, {
              publicBaseUrl: v.publicBaseUrl.trim(),
            }),
          )
        }
      >
        <Form.Item
          name="publicBaseUrl"
          label={t('merchant.publicUrl.label')}
          extra={t('merchant.publicUrl.help')}
          rules={[{ required: true }]}
        >
          <Input placeholder="https://card.example.com" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="save-public-url">
          {t('common.save')}
        </Button>
      </Form>
      {merchant.consoleAddresses && (
        <Alert
          style={{ marginTop: 16 }}
          type="info"
          showIcon
          message={t('merchant.publicUrl.pasteThese')}
          description={
            <Descriptions size="small" column={1}>
              <Descriptions.Item label={t('merchant.publicUrl.appGateway')}>
                <CopyText
                  text={merchant.consoleAddresses.appGateway}
                  testId="app-gateway-address"
                />
              </Descriptions.Item>
              <Descriptions.Item label={t('merchant.publicUrl.callback')}>
                <CopyText text={merchant.consoleAddresses.callback} />
              </Descriptions.Item>
            </Descriptions>
          }
        />
      )}
    </Card>
  )
}

/** How Alipay's messages arrive: the app gateway (HTTP) or the long connection a worker keeps. */
function MessageChannelCard({ merchant }: { merchant: MerchantView }) {
  const { t } = useTranslation()
  const { can } = useSession()
  const [form] = Form.useForm<{ channel: MerchantView['messageChannel'] }>()
  const { busy, save } = useSaver()
  return (
    <Card title={t('merchant.messageChannel.title')}>
      <Form
        form={form}
        layout="vertical"
        disabled={!can('settings.write')}
        initialValues={{ channel: merchant.messageChannel }}
        onFinish={(v) =>
          save(form, () =>
            api('PUT', `/api/merchants/${merchant.id}/message-channel`, { channel: v.channel }),
          )
        }
      >
        <Form.Item
          name="channel"
          label={t('merchant.messageChannel.label')}
          extra={t('merchant.messageChannel.help')}
        >
          <Select
            data-testid="message-channel"
            style={{ maxWidth: 420 }}
            options={[
              { value: 'http', label: t('merchant.messageChannel.http') },
              { value: 'websocket', label: t('merchant.messageChannel.websocket') },
            ]}
          />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} data-testid="save-message-channel">
          {t('common.save')}
        </Button>
      </Form>
    </Card>
  )
}

interface CrmForm {
  mode: 'none' | 'crm'
  baseUrl?: string
  token?: string
  publicKey?: string
  strictReplay?: boolean
  memberNoPrefix?: string
  memberNoStyle?: 'random' | 'sequential'
}

function CrmCard({ merchant }: { merchant: MerchantView }) {
  const { t } = useTranslation()
  const { can } = useSession()
  const report = useErrorReporter()
  const [form] = Form.useForm<CrmForm>()
  const { busy, save } = useSaver()
  const mode = Form.useWatch('mode', form)
  const [testing, setTesting] = useState(false)
  const [result, setResult] = useState<CrmTestResult>()
  const c = merchant.crm
  return (
    <Card title={t('merchant.crm.title')}>
      <Form
        form={form}
        layout="vertical"
        disabled={!can('settings.write')}
        initialValues={{
          mode: c.mode,
          baseUrl: c.baseUrl ?? '',
          strictReplay: c.strictReplay,
          memberNoPrefix: merchant.memberNumbers.prefix,
          memberNoStyle: merchant.memberNumbers.style,
        }}
        onFinish={(v) =>
          save(form, () => {
            const body: CrmBody =
              v.mode === 'none'
                ? {
                    mode: 'none',
                    memberNoPrefix: v.memberNoPrefix ?? '',
                    memberNoStyle: v.memberNoStyle ?? 'random',
                  }
                : {
                    mode: 'crm',
                    baseUrl: v.baseUrl?.trim() ?? '',
                    strictReplay: v.strictReplay ?? false,
                    ...(v.token?.trim() ? { token: v.token.trim() } : {}),
                    ...(v.publicKey?.trim() ? { publicKey: v.publicKey.trim() } : {}),
                  }
            return api('PUT', `/api/merchants/${merchant.id}/crm`, body)
          })
        }
      >
        <Form.Item name="mode" label={t('merchant.crm.mode')}>
          <Radio.Group>
            <Radio value="none">{t('merchant.crm.none')}</Radio>
            <Radio value="crm">{t('merchant.crm.crm')}</Radio>
          </Radio.Group>
        </Form.Item>
        {mode === 'crm' ? (
          <>
            <Form.Item
              name="baseUrl"
              label={t('merchant.crm.baseUrl')}
              extra={t('merchant.crm.baseUrlHelp')}
              rules={[{ required: true }]}
            >
              <Input placeholder="https://crm.example.com/kaguan" />
            </Form.Item>
            <Form.Item
              name="token"
              label={t('merchant.crm.token')}
              extra={c.tokenSet ? t('merchant.keepWhenEmpty') : undefined}
              rules={[{ required: !c.tokenSet, min: 8 }]}
            >
              <Input.Password autoComplete="off" />
            </Form.Item>
            <Form.Item
              name="publicKey"
              label={t('merchant.crm.publicKey')}
              extra={
                c.publicKeyFingerprint
                  ? `${t('merchant.fingerprint')}: ${c.publicKeyFingerprint} · ${t('merchant.keepWhenEmpty')}`
                  : undefined
              }
              rules={[{ required: !c.publicKeyFingerprint && !c.tokenSet }]}
            >
              <KeyInput />
            </Form.Item>
            <Form.Item
              name="strictReplay"
              label={t('merchant.crm.strictReplay')}
              valuePropName="checked"
            >
              <Switch />
            </Form.Item>
          </>
        ) : (
          <>
            <Form.Item
              name="memberNoPrefix"
              label={t('merchant.crm.memberNoPrefix')}
              rules={[
                { pattern: /^[A-Z0-9]{0,8}$/, message: t('merchant.crm.memberNoPrefixRule') },
              ]}
            >
              <Input style={{ maxWidth: 200 }} />
            </Form.Item>
            <Form.Item name="memberNoStyle" label={t('merchant.crm.memberNoStyle')}>
              <Radio.Group>
                <Radio value="random">{t('merchant.crm.random')}</Radio>
                <Radio value="sequential">{t('merchant.crm.sequential')}</Radio>
              </Radio.Group>
            </Form.Item>
          </>
        )}
        <Space>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t('common.save')}
          </Button>
          {c.mode === 'crm' && (
            <Button
              loading={testing}
              data-testid="test-crm"
              onClick={async () => {
                setTesting(true)
                try {
                  setResult(
                    await api<CrmTestResult>('POST', `/api/merchants/${merchant.id}/crm/test`),
                  )
                } catch (e) {
                  report(e)
                } finally {
                  setTesting(false)
                }
              }}
            >
              {t('merchant.crm.test')}
            </Button>
          )}
        </Space>
      </Form>
      {result && <CrmResult result={result} />}
    </Card>
  )
}

function CrmResult({ result }: { result: CrmTestResult }) {
  const { t } = useTranslation()
  const statusColor = { pass: 'success', fail: 'error', warn: 'warning', skip: 'default' } as const
  return (
    <Alert
      style={{ marginTop: 16 }}
      type={result.ok ? (result.warnings > 0 ? 'warning' : 'success') : 'error'}
      showIcon
      message={
        result.ok
          ? t('merchant.crm.testOk', { passed: result.passed, warnings: result.warnings })
          : t('merchant.crm.testFailed', { failed: result.failed, url: result.url })
      }
      description={
        <List
          size="small"
          dataSource={result.checks.filter((row) => row.status !== 'pass')}
          locale={{ emptyText: t('merchant.crm.allPassed') }}
          renderItem={(row) => (
            <List.Item>
              <List.Item.Meta
                title={
                  <Space>
                    <Tag color={statusColor[row.status]}>
                      {t(`merchant.crm.status.${row.status}`)}
                    </Tag>
                    <span>{row.what}</span>
                    <code>{row.endpoint}</code>
                  </Space>
                }
                description={
                  <>
                    <div>{row.detail}</div>
                    {row.fix && (
                      <div>
                        {t('merchant.crm.fix')}
                        {row.fix}
                      </div>
                    )}
                  </>
                }
              />
            </List.Item>
          )}
        />
      }
    />
  )
}
