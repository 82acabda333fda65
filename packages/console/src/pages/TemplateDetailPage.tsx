import type {
  CrmLevelCheck,
  ImageView,
  PublishResult,
  ShopView,
  TemplateView,
} from '@kaguan/contracts'
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  List,
  Popconfirm,
  Row,
  Space,
  Spin,
} from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useNavigate, useParams } from 'react-router-dom'
import { api, ApiError, get } from '../api/client.js'
import { listAll } from '../api/paged.js'
import { CardPreviewView } from '../components/CardPreviewView.js'
import { ClaimLinksCard } from '../components/template/ClaimLinksCard.js'
import { ComponentsCard } from '../components/template/ComponentsCard.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { TemplateStatusTag } from '../components/TemplateStatusTag.js'
import { toCardPreview } from '../lib/card-preview.js'
import { formatTime } from '../lib/format.js'
import { publishAdvice } from '../lib/publish-advice.js'
import { draftFromSpec } from '../lib/template-draft.js'
import { useMerchant, useSession } from '../session.js'

export function TemplateDetailPage() {
  const { templateId } = useParams()
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const navigate = useNavigate()
  const { message } = App.useApp()
  const loaded = useLoad(async () => {
    const [template, images, shops] = await Promise.all([
      api<TemplateView>('GET', `/api/templates/${templateId}`),
      listAll<ImageView>(get, `/api/merchants/${merchant.id}/images`),
      listAll<ShopView>(get, `/api/merchants/${merchant.id}/shops`),
    ])
    return { template, images, shops }
  }, [templateId, merchant.id])
  // A CRM answering a level the template does not define fails every claim: say so before publishing.
  const mayPublish = can('templates.publish')
  const levelCheck = useLoad(
    async () =>
      mayPublish
        ? api<CrmLevelCheck>('POST', `/api/templates/${templateId}/crm-level-check`)
        : undefined,
    [templateId, mayPublish],
  )
  const [publishing, setPublishing] = useState(false)
  const [result, setResult] = useState<PublishResult>()
  const [failure, setFailure] = useState<ApiError>()

  if (loaded.error) {
    return <LoadError error={loaded.error} onRetry={loaded.reload} />
  }
  if (!loaded.data) {
    return <Spin />
  }
  const { template, images, shops } = loaded.data
  const preview = toCardPreview(draftFromSpec(template.spec), {
    imageUrl: (id) => images.find((i) => i.id === id)?.url,
    shopName: (id) => shops.find((s) => s.id === id)?.name,
    sampleCardNo: '8800 0000 0001',
    placeholder: t('preview.placeholder'),
  })
  const missingShopIds = shops.filter(
    (s) => template.spec.basic.shopIds.includes(s.id) && !s.alipayShopId,
  )

  async function publish() {
    setPublishing(true)
    setFailure(undefined)
    setResult(undefined)
    try {
      const answer = await api<PublishResult>('POST', `/api/templates/${template.id}/publish`)
      setResult(answer)
      void message.success(t('templates.detail.published'))
      loaded.reload()
    } catch (e) {
      setFailure(e instanceof ApiError ? e : new ApiError(0, { message: String(e) }))
    } finally {
      setPublishing(false)
    }
  }

  return (
    <>
      <PageHeader
        title={template.spec.basic.name}
        subtitle={<TemplateStatusTag status={template.status} />}
        extra={
          <>
            {can('templates.write') && (
              <Button
                onClick={() => navigate(`/templates/${template.id}/edit`)}
                data-testid="edit-template"
              >
                {t('common.edit')}
              </Button>
            )}
            {can('templates.publish') && template.status !== 'published' && (
              <Popconfirm
                title={t('templates.detail.publishConfirm')}
                description={t('templates.detail.publishConfirmHelp')}
                onConfirm={publish}
                okText={t('templates.detail.publish')}
                cancelText={t('common.cancel')}
              >
                <Button type="primary" loading={publishing} data-testid="publish-template">
                  {t('templates.detail.publish')}
                </Button>
              </Popconfirm>
            )}
          </>
        }
      />
      <Row gutter={24} wrap={false}>
        <Col flex="auto" style={{ minWidth: 0 }}>
          <Space direction="vertical" size="middle" style={{ width: '100%' }}>
            {failure && (
              <Alert
                type="error"
                showIcon
                data-testid="publish-failure"
                message={`${t('templates.detail.publishFailed')} (${failure.errcode})`}
                description={
                  <>
                    <div>{failure.message}</div>
                    {publishAdvice(failure).map((key) => (
                      <div key={key} style={{ marginTop: 8 }}>
                        <b>{t('templates.detail.whatToDo')}</b> {t(key)}
                      </div>
                    ))}
                  </>
                }
              />
            )}
            {result && (
              <Alert
                type={result.warnings.length ? 'warning' : 'success'}
                showIcon
                message={t('templates.detail.publishedCalls', {
                  calls: result.alipayCalls.join(', '),
                })}
                description={
                  result.warnings.length > 0 && (
                    <List
                      size="small"
                      dataSource={result.warnings}
                      renderItem={(w) => <List.Item>{w}</List.Item>}
                    />
                  )
                }
              />
            )}
            {levelCheck.data?.checked && !levelCheck.data.ok && (
              <Alert
                type="warning"
                showIcon
                data-testid="crm-level-warning"
                message={t('templates.detail.crmLevelUnknown', {
                  level: levelCheck.data.level,
                  defined: levelCheck.data.definedLevels.join('、') || '—',
                })}
                description={t('templates.detail.crmLevelFix', { level: levelCheck.data.level })}
              />
            )}
            {missingShopIds.length > 0 && (
              <Alert
                type="warning"
                showIcon
                message={t('templates.detail.shopsWithoutId', {
                  names: missingShopIds.map((s) => s.name).join('、'),
                })}
              />
            )}
            <Card size="small">
              <Descriptions column={2} size="small">
                <Descriptions.Item label={t('templates.statusLabel')}>
                  <TemplateStatusTag status={template.status} />
                </Descriptions.Item>
                <Descriptions.Item label={t('templates.alipayTemplateId')}>
                  {template.alipayTemplateId ?? '—'}
                </Descriptions.Item>
                <Descriptions.Item label={t('templates.revision')}>
                  {template.revision}
                </Descriptions.Item>
                <Descriptions.Item label={t('templates.detail.publishedRevision')}>
                  {template.publishedRevision ?? '—'}
                </Descriptions.Item>
                <Descriptions.Item label={t('templates.publishedAt')}>
                  {formatTime(template.publishedAt)}
                </Descriptions.Item>
                <Descriptions.Item label={t('common.updatedAt')}>
                  {formatTime(template.updatedAt)}
                </Descriptions.Item>
                <Descriptions.Item label={t('templates.editor.levels')}>
                  {template.spec.levels.map((l) => `${l.name} (${l.code})`).join('、') || '—'}
                </Descriptions.Item>
              </Descriptions>
            </Card>
            <ClaimLinksCard template={template} />
            <ComponentsCard template={template} />
          </Space>
        </Col>
        <Col flex="none">
          <div style={{ marginBottom: 8, fontWeight: 600 }}>{t('preview.title')}</div>
          <CardPreviewView preview={preview} />
        </Col>
      </Row>
    </>
  )
}
