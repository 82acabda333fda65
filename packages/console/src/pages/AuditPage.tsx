import { AutoComplete, Button, Card, DatePicker, Form, Input } from 'antd'
import type { Dayjs } from 'dayjs'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api, queryString } from '../api/client.js'
import { asPage, type Page } from '../api/paged.js'
import type { AuditRecord } from '../api/types.js'
import { AuditTable } from '../components/AuditTable.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { AUDIT_ACTIONS, auditActionKey } from '../lib/audit.js'
import { useMerchant } from '../session.js'

interface Filter {
  actor?: string
  action?: string
  object?: string
  from?: string
  to?: string
}

export function AuditPage() {
  const { t, i18n } = useTranslation()
  const merchant = useMerchant()
  const [filter, setFilter] = useState<Filter>({})
  const [paging, setPaging] = useState({ page: 1, pageSize: 20 })
  const list = useLoad<Page<AuditRecord>>(
    async () =>
      asPage(
        await api(
          'GET',
          `/api/audit${queryString({ merchantId: merchant.id, ...filter, ...paging })}`,
        ),
        paging,
      ),
    [merchant.id, filter, paging],
  )
  return (
    <>
      <PageHeader title={t('audit.title')} subtitle={t('audit.subtitle')} />
      <Card>
        <Form<{ actor?: string; action?: string; object?: string; range?: [Dayjs, Dayjs] }>
          layout="inline"
          style={{ marginBottom: 16, rowGap: 8 }}
          onFinish={(v) => {
            setFilter({
              actor: v.actor?.trim() || undefined,
              action: v.action?.trim() || undefined,
              object: v.object?.trim() || undefined,
              from: v.range?.[0]?.startOf('day').toISOString(),
              to: v.range?.[1]?.endOf('day').toISOString(),
            })
            setPaging((p) => ({ ...p, page: 1 }))
          }}
        >
          <Form.Item name="actor" label={t('audit.actor')}>
            <Input placeholder={t('audit.actorPlaceholder')} allowClear style={{ width: 220 }} />
          </Form.Item>
          <Form.Item name="action" label={t('audit.action')}>
            <AutoComplete
              allowClear
              style={{ width: 220 }}
              placeholder={t('audit.actionPlaceholder')}
              options={AUDIT_ACTIONS.map((a) => ({
                value: a,
                label: `${t(auditActionKey(a)!)} · ${a}`,
              }))}
              filterOption={(input, option) =>
                String(option?.label ?? '')
                  .toLowerCase()
                  .includes(input.toLowerCase())
              }
              data-testid="audit-action"
            />
          </Form.Item>
          <Form.Item name="object" label={t('audit.object')}>
            <Input placeholder={t('audit.objectPlaceholder')} allowClear style={{ width: 240 }} />
          </Form.Item>
          <Form.Item name="range" label={t('audit.time')}>
            {/* Remounted on a language switch: a mounted picker keeps the placeholders it started with. */}
            <DatePicker.RangePicker key={i18n.language} />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            {t('common.search')}
          </Button>
        </Form>
        {list.error ? (
          <LoadError error={list.error} onRetry={list.reload} />
        ) : (
          <AuditTable
            items={list.data?.items ?? []}
            loading={list.loading}
            pagination={{
              current: list.data?.page ?? paging.page,
              pageSize: list.data?.pageSize ?? paging.pageSize,
              total: list.data?.total ?? 0,
              onChange: (page, pageSize) => setPaging({ page, pageSize }),
            }}
          />
        )}
      </Card>
    </>
  )
}
