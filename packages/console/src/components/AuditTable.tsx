import { Table, Typography, type TablePaginationConfig } from 'antd'
import { useTranslation } from 'react-i18next'
import type { AuditRecord } from '../api/types.js'
import { formatTime } from '../lib/format.js'

function Json({ value }: { value: unknown }) {
  if (value === null || value === undefined) {
    return <>—</>
  }
  return (
    <Typography.Text code style={{ fontSize: 12, wordBreak: 'break-all' }}>
      {JSON.stringify(value)}
    </Typography.Text>
  )
}

/** Audit entries: who did what to which object, with before and after (secrets elided by the server). */
export function AuditTable({
  items,
  loading,
  pagination,
}: {
  items: AuditRecord[]
  loading?: boolean
  pagination?: false | TablePaginationConfig
}) {
  const { t } = useTranslation()
  return (
    <Table<AuditRecord>
      rowKey="id"
      size="small"
      loading={loading}
      dataSource={items}
      pagination={pagination ?? false}
      locale={{ emptyText: t('audit.empty') }}
      columns={[
        {
          title: t('audit.at'),
          dataIndex: 'createdAt',
          width: 170,
          render: (v: string) => formatTime(v),
        },
        { title: t('audit.actor'), dataIndex: 'actor' },
        { title: t('audit.action'), dataIndex: 'action' },
        {
          title: t('audit.object'),
          key: 'object',
          render: (_, r) => (r.target ? `${r.target.type}:${r.target.id}` : '—'),
        },
        {
          title: t('audit.before'),
          dataIndex: 'before',
          render: (v: unknown) => <Json value={v} />,
        },
        { title: t('audit.after'), dataIndex: 'after', render: (v: unknown) => <Json value={v} /> },
      ]}
    />
  )
}
