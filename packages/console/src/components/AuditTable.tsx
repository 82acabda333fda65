import { Space, Table, Tag, Typography, type TablePaginationConfig } from 'antd'
import { useTranslation } from 'react-i18next'
import type { AuditRecord } from '../api/types.js'
import { actorKind, auditActionKey } from '../lib/audit.js'
import { formatTime } from '../lib/format.js'

/** A before/after value: three lines at most, the rest behind "more". */
function Json({ value }: { value: unknown }) {
  const { t } = useTranslation()
  if (value === null || value === undefined) {
    return <>—</>
  }
  return (
    <Typography.Paragraph
      code
      style={{ fontSize: 12, wordBreak: 'break-all', margin: 0 }}
      ellipsis={{ rows: 3, expandable: true, symbol: t('audit.more') }}
    >
      {JSON.stringify(value)}
    </Typography.Paragraph>
  )
}

/** Who did it: a tag saying what kind of actor, then its id. */
export function ActorCell({ actor }: { actor: string }) {
  const { t } = useTranslation()
  const { kind, id } = actorKind(actor)
  return (
    <Space size={4} wrap>
      <Tag>{t(`audit.actorKinds.${kind}`)}</Tag>
      <Typography.Text style={{ fontSize: 12, wordBreak: 'break-all' }}>
        {kind === 'other' ? actor : (id ?? '')}
      </Typography.Text>
    </Space>
  )
}

/** What was done: its label, the code under it (what the filter takes). */
export function ActionCell({ action }: { action: string }) {
  const { t } = useTranslation()
  const key = auditActionKey(action)
  return key ? (
    <Space direction="vertical" size={0}>
      <span>{t(key)}</span>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {action}
      </Typography.Text>
    </Space>
  ) : (
    <>{action}</>
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
        {
          title: t('audit.actor'),
          dataIndex: 'actor',
          width: 200,
          render: (v: string) => <ActorCell actor={v} />,
        },
        {
          title: t('audit.action'),
          dataIndex: 'action',
          width: 170,
          render: (v: string) => <ActionCell action={v} />,
        },
        {
          title: t('audit.object'),
          key: 'object',
          width: 200,
          render: (_, r) => (
            <Typography.Text style={{ fontSize: 12, wordBreak: 'break-all' }}>
              {r.target ? `${r.target.type}:${r.target.id}` : '—'}
            </Typography.Text>
          ),
        },
        {
          title: t('audit.before'),
          dataIndex: 'before',
          width: '22%',
          render: (v: unknown) => <Json value={v} />,
        },
        { title: t('audit.after'), dataIndex: 'after', render: (v: unknown) => <Json value={v} /> },
      ]}
    />
  )
}
