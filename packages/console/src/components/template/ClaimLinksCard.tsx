import { DownloadOutlined, PlusOutlined } from '@ant-design/icons'
import type { ClaimLinkView, TemplateView } from '@kaguan/contracts'
import { Button, Card, Form, Image, Input, Space, Table, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api, get } from '../../api/client.js'
import { listAll } from '../../api/paged.js'
import { formatTime } from '../../lib/format.js'
import { useSession } from '../../session.js'
import { CopyText } from '../CopyText.js'
import { useErrorReporter, useLoad } from '../hooks.js'

/** 领卡链接: made for a published template, shown as link and QR code (PNG/SVG download). */
export function ClaimLinksCard({ template }: { template: TemplateView }) {
  const { t } = useTranslation()
  const { can } = useSession()
  const report = useErrorReporter()
  const [form] = Form.useForm<{ outString?: string }>()
  const [busy, setBusy] = useState(false)
  const links = useLoad(
    () => listAll<ClaimLinkView>(get, `/api/templates/${template.id}/claim-links`),
    [template.id],
  )
  const published = template.publishedRevision !== null
  return (
    <Card title={t('claimLinks.title')} size="small">
      {can('templates.publish') && (
        <Form
          form={form}
          layout="inline"
          style={{ marginBottom: 12 }}
          disabled={!published}
          onFinish={async (v) => {
            setBusy(true)
            try {
              await api(
                'POST',
                `/api/templates/${template.id}/claim-links`,
                v.outString ? { outString: v.outString } : {},
              )
              form.resetFields()
              links.reload()
            } catch (e) {
              report(e, form)
            } finally {
              setBusy(false)
            }
          }}
        >
          <Form.Item
            name="outString"
            label={t('claimLinks.channel')}
            tooltip={t('claimLinks.channelHelp')}
          >
            <Input
              placeholder={t('claimLinks.channelPlaceholder')}
              data-testid="claim-link-channel"
            />
          </Form.Item>
          <Button
            type="primary"
            htmlType="submit"
            icon={<PlusOutlined />}
            loading={busy}
            data-testid="new-claim-link"
          >
            {t('claimLinks.new')}
          </Button>
          {!published && (
            <Typography.Text type="secondary">{t('claimLinks.publishFirst')}</Typography.Text>
          )}
        </Form>
      )}
      <Table<ClaimLinkView>
        rowKey="id"
        size="small"
        loading={links.loading}
        dataSource={links.data ?? []}
        pagination={false}
        locale={{ emptyText: t('claimLinks.empty') }}
        columns={[
          {
            title: t('claimLinks.qr'),
            key: 'qr',
            width: 96,
            render: (_, l) => <Image src={l.qrPngUrl} width={80} data-testid="claim-link-qr" />,
          },
          {
            title: t('claimLinks.channel'),
            width: 120,
            dataIndex: 'outString',
            render: (v: string | null) => v ?? '—',
          },
          {
            title: t('claimLinks.url'),
            dataIndex: 'url',
            render: (url: string) => <CopyText text={url} testId="claim-link-url" />,
          },
          {
            title: t('common.createdAt'),
            width: 180,
            dataIndex: 'createdAt',
            render: (v: string) => formatTime(v),
          },
          {
            title: t('claimLinks.download'),
            key: 'download',
            render: (_, l) => (
              <Space>
                <Button
                  size="small"
                  icon={<DownloadOutlined />}
                  href={l.qrPngUrl}
                  download={`claim-${l.id}.png`}
                >
                  PNG
                </Button>
                <Button
                  size="small"
                  icon={<DownloadOutlined />}
                  href={l.qrSvgUrl}
                  download={`claim-${l.id}.svg`}
                >
                  SVG
                </Button>
              </Space>
            ),
          },
        ]}
      />
    </Card>
  )
}
