import type { TablePaginationConfig } from 'antd'
import { Card, Input, Space, Table, Tag } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { Link } from 'react-router-dom'
import { api, queryString } from '../api/client.js'
import { asPage, memberSearchParams, type Page } from '../api/paged.js'
import type { CardView, MemberWithCards } from '../api/types.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { ClaimBlocksCard } from '../components/MemberPrivacy.js'
import { PageHeader } from '../components/PageHeader.js'
import { formatTime } from '../lib/format.js'
import { useMerchant, useSession } from '../session.js'

export function MembersPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { can } = useSession()
  const [q, setQ] = useState('')
  const [paging, setPaging] = useState({ page: 1, pageSize: 20 })
  const list = useLoad<Page<MemberWithCards>>(
    async () =>
      asPage(
        await api(
          'GET',
          `/api/merchants/${merchant.id}/members${queryString({ ...paging, ...memberSearchParams(q) })}`,
        ),
        paging,
      ),
    [merchant.id, q, paging],
  )
  return (
    <>
      <PageHeader title={t('members.title')} subtitle={t('members.subtitle')} />
      <Card>
        <Input.Search
          allowClear
          enterButton
          placeholder={t('members.searchPlaceholder')}
          style={{ maxWidth: 420, marginBottom: 16 }}
          onSearch={(value) => {
            setQ(value)
            setPaging((p) => ({ ...p, page: 1 }))
          }}
          data-testid="member-search"
        />
        {list.error ? (
          <LoadError error={list.error} onRetry={list.reload} />
        ) : (
          <Table<MemberWithCards>
            rowKey="id"
            loading={list.loading}
            dataSource={list.data?.items ?? []}
            locale={{ emptyText: q ? t('members.noMatch') : t('members.empty') }}
            pagination={{
              current: list.data?.page ?? paging.page,
              pageSize: list.data?.pageSize ?? paging.pageSize,
              total: list.data?.total ?? 0,
              showSizeChanger: true,
              showTotal: (total) => t('common.total', { total }),
            }}
            onChange={(p: TablePaginationConfig) =>
              setPaging({ page: p.current ?? 1, pageSize: p.pageSize ?? 20 })
            }
            expandable={{
              // Staff come for the cards: every member's cards are shown, not behind a click.
              expandedRowKeys: (list.data?.items ?? []).map((m) => m.id),
              showExpandColumn: false,
              rowExpandable: (m) => m.cards.length > 0,
              expandedRowRender: (m) => <MemberCards cards={m.cards} />,
            }}
            columns={[
              { title: t('members.bizCardNo'), dataIndex: 'bizCardNo' },
              {
                title: t('members.name'),
                key: 'name',
                render: (_, m) =>
                  m.erasedAt ? <Tag>{t('members.erased')}</Tag> : (m.masked.name ?? '—'),
              },
              {
                title: t('members.mobile'),
                key: 'mobile',
                render: (_, m) => m.masked.mobile ?? '—',
              },
              { title: t('members.alipayUserId'), dataIndex: 'alipayUserId' },
              {
                title: t('members.source'),
                dataIndex: 'source',
                render: (s: string) => <Tag>{t(`members.sources.${s}`)}</Tag>,
              },
              {
                title: t('common.createdAt'),
                dataIndex: 'createdAt',
                render: (v: string) => formatTime(v),
              },
            ]}
          />
        )}
      </Card>
      <div style={{ marginTop: 16 }}>
        <ClaimBlocksCard canWrite={can('members.write')} />
      </div>
    </>
  )
}

function MemberCards({ cards }: { cards: CardView[] }) {
  const { t } = useTranslation()
  return (
    <Table<CardView>
      rowKey="id"
      size="small"
      pagination={false}
      dataSource={cards}
      columns={[
        {
          title: t('members.cardNo'),
          key: 'no',
          render: (_, c) => (
            <Link to={`/members/cards/${c.id}`} data-testid="member-card-link">
              {c.alipayCardNo || c.bizCardNo}
            </Link>
          ),
        },
        { title: t('members.points'), dataIndex: 'point' },
        { title: t('members.level'), dataIndex: 'level', render: (v: string | null) => v ?? '—' },
        {
          title: t('members.balance'),
          dataIndex: 'balance',
          render: (v: string | null) => v ?? '—',
        },
        {
          title: t('members.cardStatus'),
          key: 'status',
          render: (_, c) => (
            <Space>
              <Tag color={c.status === 'active' ? 'green' : 'default'}>
                {t(`members.cardStatuses.${c.status}`)}
              </Tag>
              {c.syncPending && <Tag color="orange">{t('members.syncPending')}</Tag>}
            </Space>
          ),
        },
        { title: t('members.openDate'), dataIndex: 'openDate' },
      ]}
    />
  )
}
