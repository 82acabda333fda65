import { PlusOutlined } from '@ant-design/icons'
import type { TemplateView } from '@kaguan/contracts'
import { Button, Card, Space, Table } from 'antd'
import { useTranslation } from 'react-i18next'
import { Link, useNavigate } from 'react-router-dom'
import { get } from '../api/client.js'
import { listAll } from '../api/paged.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { TemplateStatusTag } from '../components/TemplateStatusTag.js'
import { formatTime } from '../lib/format.js'
import { useMerchant, useSession } from '../session.js'

export function TemplatesPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const navigate = useNavigate()
  const list = useLoad(
    () => listAll<TemplateView>(get, `/api/merchants/${merchant.id}/templates`),
    [merchant.id],
  )
  return (
    <>
      <PageHeader
        title={t('templates.title')}
        subtitle={t('templates.subtitle')}
        extra={
          can('templates.write') && (
            <Button
              type="primary"
              icon={<PlusOutlined />}
              onClick={() => navigate('/templates/new')}
              data-testid="new-template"
            >
              {t('templates.new')}
            </Button>
          )
        }
      />
      {list.error ? (
        <LoadError error={list.error} onRetry={list.reload} />
      ) : (
        <Card>
          <Table<TemplateView>
            rowKey="id"
            loading={list.loading}
            dataSource={list.data ?? []}
            locale={{ emptyText: t('templates.empty') }}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            columns={[
              {
                title: t('templates.name'),
                key: 'name',
                render: (_, tpl) => <Link to={`/templates/${tpl.id}`}>{tpl.spec.basic.name}</Link>,
              },
              {
                title: t('templates.statusLabel'),
                dataIndex: 'status',
                render: (s: TemplateView['status']) => <TemplateStatusTag status={s} />,
              },
              { title: t('templates.revision'), dataIndex: 'revision' },
              {
                title: t('templates.alipayTemplateId'),
                dataIndex: 'alipayTemplateId',
                render: (v: string | null) => v ?? '—',
              },
              {
                title: t('templates.publishedAt'),
                dataIndex: 'publishedAt',
                render: (v: string | null) => formatTime(v),
              },
              {
                title: t('common.updatedAt'),
                dataIndex: 'updatedAt',
                render: (v: string) => formatTime(v),
              },
              {
                title: t('common.actions'),
                key: 'actions',
                render: (_, tpl) => (
                  <Space>
                    <Button size="small" onClick={() => navigate(`/templates/${tpl.id}`)}>
                      {t('common.open')}
                    </Button>
                    {can('templates.write') && (
                      <Button size="small" onClick={() => navigate(`/templates/${tpl.id}/edit`)}>
                        {t('common.edit')}
                      </Button>
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
