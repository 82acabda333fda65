import type { ImageView, ShopView, TemplateView } from '@kaguan/contracts'
import { Alert, App, Button, Col, Form, Row, Space, Spin } from 'antd'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { useNavigate, useParams } from 'react-router-dom'
import { api, get } from '../api/client.js'
import { listAll } from '../api/paged.js'
import { CardPreviewView } from '../components/CardPreviewView.js'
import { useErrorReporter, useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import {
  ActionsSection,
  BasicSection,
  ClaimLimitsSection,
  ColumnsSection,
  FormFieldsSection,
  OpenCardModeSection,
  LevelsSection,
  StyleSection,
} from '../components/template/sections.js'
import { toCardPreview } from '../lib/card-preview.js'
import {
  draftFromSpec,
  draftProblems,
  newDraft,
  specFromDraft,
  type TemplateDraft,
} from '../lib/template-draft.js'
import { useMerchant } from '../session.js'

interface EditorData {
  template: TemplateView | undefined
  images: ImageView[]
  shops: ShopView[]
}

export function TemplateEditorPage() {
  const { templateId } = useParams()
  const merchant = useMerchant()
  const loaded = useLoad<EditorData>(async () => {
    const [template, images, shops] = await Promise.all([
      templateId
        ? api<TemplateView>('GET', `/api/templates/${templateId}`)
        : Promise.resolve(undefined),
      listAll<ImageView>(get, `/api/merchants/${merchant.id}/images`),
      listAll<ShopView>(get, `/api/merchants/${merchant.id}/shops`),
    ])
    return { template, images, shops }
  }, [templateId, merchant.id])
  if (loaded.error) {
    return <LoadError error={loaded.error} onRetry={loaded.reload} />
  }
  if (!loaded.data) {
    return <Spin />
  }
  return <Editor key={templateId ?? 'new'} data={loaded.data} />
}

function Editor({ data }: { data: EditorData }) {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const navigate = useNavigate()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const [form] = Form.useForm<TemplateDraft>()
  const [images, setImages] = useState(data.images)
  const [problems, setProblems] = useState<string[]>([])
  const [busy, setBusy] = useState(false)
  const initial = useMemo(
    () => (data.template ? draftFromSpec(data.template.spec) : newDraft()),
    [data.template],
  )
  const watched = Form.useWatch((values: TemplateDraft) => values, form)
  const preview = toCardPreview(watched ?? initial, {
    imageUrl: (id) => images.find((i) => i.id === id)?.url,
    shopName: (id) => data.shops.find((s) => s.id === id)?.name,
    sampleCardNo: '8800 0000 0001',
    placeholder: t('preview.placeholder'),
  })

  async function save(draft: TemplateDraft) {
    const local = draftProblems(draft)
    if (local.length > 0) {
      const known = new Set(form.getFieldsError().map((f) => JSON.stringify(f.name)))
      form.setFields(
        local
          .filter((p) => known.has(JSON.stringify(p.name)))
          .map((p) => ({ name: p.name as never, errors: [t(p.key)] })),
      )
      setProblems(local.map((p) => t(p.key)))
      return
    }
    setBusy(true)
    try {
      // The whole store: what the editor has no field for (point expiry) is kept, not dropped.
      const spec = specFromDraft({ ...form.getFieldsValue(true), ...draft })
      const saved = data.template
        ? await api<TemplateView>('PUT', `/api/templates/${data.template.id}`, {
            spec,
            revision: data.template.revision,
          })
        : await api<TemplateView>('POST', `/api/merchants/${merchant.id}/templates`, { spec })
      void message.success(t('common.saved'))
      navigate(`/templates/${saved.id}`)
    } catch (e) {
      report(e, form)
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <PageHeader
        title={data.template ? t('templates.editor.editTitle') : t('templates.editor.newTitle')}
        subtitle={t('templates.editor.subtitle')}
      />
      <Form<TemplateDraft>
        form={form}
        layout="vertical"
        initialValues={initial}
        onFinish={save}
        onValuesChange={() => problems.length > 0 && setProblems([])}
        onFinishFailed={() => void message.warning(t('common.fixFields'))}
        scrollToFirstError
      >
        <Row gutter={24} wrap={false}>
          <Col flex="auto" style={{ minWidth: 0 }}>
            <Space direction="vertical" size="middle" style={{ width: '100%' }}>
              <BasicSection shops={data.shops} />
              <StyleSection
                merchantId={merchant.id}
                images={images}
                onUploaded={(image) => setImages((list) => [...list, image])}
              />
              <ColumnsSection />
              <LevelsSection />
              <ActionsSection />
              <FormFieldsSection />
              <OpenCardModeSection />
              <ClaimLimitsSection />
              {problems.length > 0 && (
                <Alert
                  type="error"
                  showIcon
                  message={t('templates.rules.title')}
                  description={problems.join(' ')}
                />
              )}
              <Space>
                <Button type="primary" htmlType="submit" loading={busy} data-testid="save-template">
                  {t('templates.editor.save')}
                </Button>
                <Button onClick={() => navigate(-1)}>{t('common.cancel')}</Button>
              </Space>
            </Space>
          </Col>
          <Col flex="none">
            <div style={{ position: 'sticky', top: 24 }}>
              <div style={{ marginBottom: 8, fontWeight: 600 }}>{t('preview.title')}</div>
              <CardPreviewView preview={preview} />
            </div>
          </Col>
        </Row>
      </Form>
    </>
  )
}
