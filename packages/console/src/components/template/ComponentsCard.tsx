import { PlusOutlined } from '@ant-design/icons'
import type { ComponentView, TemplateView } from '@kaguan/contracts'
import { Button, Card, Form, Input, List, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api, get } from '../../api/client.js'
import { listAll } from '../../api/paged.js'
import { componentSnippet } from '../../lib/snippet.js'
import { useSession } from '../../session.js'
import { useErrorReporter, useLoad } from '../hooks.js'

/** 会员卡组件 of the mini-program bound to this template, with the code to paste. */
export function ComponentsCard({ template }: { template: TemplateView }) {
  const { t } = useTranslation()
  const { can } = useSession()
  const report = useErrorReporter()
  const [form] = Form.useForm<{ name: string; outString?: string }>()
  const [busy, setBusy] = useState(false)
  const list = useLoad(
    () => listAll<ComponentView>(get, `/api/merchants/${template.merchantId}/components`),
    [template.merchantId],
  )
  const mine = (list.data ?? []).filter((c) => c.templateId === template.id)
  return (
    <Card title={t('components.title')} size="small" extra={t('components.help')}>
      {can('templates.write') && (
        <Form
          form={form}
          layout="inline"
          style={{ marginBottom: 12 }}
          onFinish={async (v) => {
            setBusy(true)
            try {
              await api('POST', `/api/merchants/${template.merchantId}/components`, {
                name: v.name,
                templateId: template.id,
                ...(v.outString ? { outString: v.outString } : {}),
              })
              form.resetFields()
              list.reload()
            } catch (e) {
              report(e, form)
            } finally {
              setBusy(false)
            }
          }}
        >
          <Form.Item name="name" label={t('components.name')} rules={[{ required: true }]}>
            <Input />
          </Form.Item>
          <Form.Item name="outString" label={t('claimLinks.channel')}>
            <Input />
          </Form.Item>
          <Button htmlType="submit" icon={<PlusOutlined />} loading={busy}>
            {t('components.new')}
          </Button>
        </Form>
      )}
      <List
        dataSource={mine}
        locale={{ emptyText: t('components.empty') }}
        renderItem={(c) => (
          <List.Item>
            <List.Item.Meta
              title={c.name}
              description={
                c.publicUrl ? (
                  <Typography.Paragraph
                    copyable={{ text: componentSnippet(c.publicUrl) }}
                    style={{ marginBottom: 0 }}
                  >
                    <pre style={{ fontSize: 12, margin: 0, whiteSpace: 'pre-wrap' }}>
                      {componentSnippet(c.publicUrl)}
                    </pre>
                  </Typography.Paragraph>
                ) : (
                  t('components.noPublicUrl')
                )
              }
            />
          </List.Item>
        )}
      />
    </Card>
  )
}
