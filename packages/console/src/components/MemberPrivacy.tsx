import type { ClaimBlockView, MemberEraseResult, MemberExportView } from '@kaguan/contracts'
import { App, Button, Card, Form, Input, Modal, Space, Table, Tag, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { formatTime } from '../lib/format.js'
import { useMerchant } from '../session.js'
import { useErrorReporter, useLoad } from './hooks.js'

/** Saves `data` as a JSON file in the browser's downloads. */
function download(name: string, data: unknown) {
  const url = URL.createObjectURL(
    new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }),
  )
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  URL.revokeObjectURL(url)
}

/** Asks for a reason in a dialog, then runs `act` with it. */
function useReasonDialog() {
  const { t } = useTranslation()
  const [form] = Form.useForm<{ reason: string }>()
  const report = useErrorReporter()
  const [open, setOpen] = useState<{
    title: string
    warning: string
    danger: boolean
    act: (reason: string) => Promise<void>
  }>()
  const [busy, setBusy] = useState(false)
  const dialog = (
    <Modal
      open={open !== undefined}
      title={open?.title}
      okText={t('privacy.confirm')}
      okButtonProps={{ danger: open?.danger, loading: busy, 'data-testid': 'reason-ok' } as never}
      onCancel={() => setOpen(undefined)}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      <Typography.Paragraph type={open?.danger ? 'danger' : undefined}>
        {open?.warning}
      </Typography.Paragraph>
      <Form
        form={form}
        layout="vertical"
        preserve={false}
        onFinish={async ({ reason }) => {
          setBusy(true)
          try {
            await open!.act(reason)
            setOpen(undefined)
          } catch (e) {
            report(e, form)
          } finally {
            setBusy(false)
          }
        }}
      >
        <Form.Item name="reason" label={t('privacy.reason')} rules={[{ required: true, max: 256 }]}>
          <Input data-testid="reason-input" />
        </Form.Item>
      </Form>
    </Modal>
  )
  return { ask: setOpen, dialog }
}

/**
 * A member's personal data on request (PIPL: export, erase) and blocking their Alipay user from
 * claiming the merchant's cards (abuse of opening gifts).
 */
export function MemberPrivacyCard({
  member,
  onChanged,
}: {
  member: { id: string; alipayUserId: string; erasedAt?: string }
  onChanged: () => void
}) {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const { message } = App.useApp()
  const report = useErrorReporter()
  const { ask, dialog } = useReasonDialog()
  const blocks = useLoad(
    () => api<ClaimBlockView[]>('GET', `/api/merchants/${merchant.id}/claim-blocks`),
    [merchant.id],
  )
  const block = blocks.data?.find((b) => b.alipayUserId === member.alipayUserId)
  const base = `/api/merchants/${merchant.id}`
  return (
    <Card size="small" title={t('privacy.title')} extra={t('privacy.help')}>
      {dialog}
      <Space wrap>
        {member.erasedAt && (
          <Tag color="default" data-testid="member-erased">
            {t('privacy.erasedAt', { at: formatTime(member.erasedAt) })}
          </Tag>
        )}
        {block && (
          <Tag color="red" data-testid="member-blocked">
            {t('privacy.blockedTag', { reason: block.reason })}
          </Tag>
        )}
        <Button
          data-testid="member-export"
          onClick={async () => {
            try {
              download(
                `member-${member.id}.json`,
                await api<MemberExportView>('GET', `${base}/members/${member.id}/export`),
              )
            } catch (e) {
              report(e)
            }
          }}
        >
          {t('privacy.export')}
        </Button>
        {block ? (
          <Button
            onClick={async () => {
              try {
                await api('DELETE', `${base}/claim-blocks/${member.alipayUserId}`)
                void message.success(t('privacy.unblocked'))
                blocks.reload()
              } catch (e) {
                report(e)
              }
            }}
          >
            {t('privacy.unblock')}
          </Button>
        ) : (
          <Button
            data-testid="member-block"
            onClick={() =>
              ask({
                title: t('privacy.block'),
                warning: t('privacy.blockWarning'),
                danger: false,
                act: async (reason) => {
                  await api('POST', `${base}/claim-blocks`, {
                    alipayUserId: member.alipayUserId,
                    reason,
                  })
                  void message.success(t('privacy.blocked'))
                  blocks.reload()
                },
              })
            }
          >
            {t('privacy.block')}
          </Button>
        )}
        {!member.erasedAt && (
          <Button
            danger
            data-testid="member-erase"
            onClick={() =>
              ask({
                title: t('privacy.erase'),
                warning: t('privacy.eraseWarning'),
                danger: true,
                act: async (reason) => {
                  const done = await api<MemberEraseResult>(
                    'POST',
                    `${base}/members/${member.id}/erase`,
                    { reason },
                  )
                  void message.success(t('privacy.erased', { cards: done.deletedCards.length }))
                  onChanged()
                },
              })
            }
          >
            {t('privacy.erase')}
          </Button>
        )}
      </Space>
    </Card>
  )
}

/** The Alipay users blocked from claiming this merchant's cards, with unblock. */
export function ClaimBlocksCard({ canWrite }: { canWrite: boolean }) {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const report = useErrorReporter()
  const blocks = useLoad(
    () => api<ClaimBlockView[]>('GET', `/api/merchants/${merchant.id}/claim-blocks`),
    [merchant.id],
  )
  return (
    <Card
      title={t('privacy.blockList')}
      extra={t('privacy.blockListHelp')}
      data-testid="claim-blocks"
    >
      <Table<ClaimBlockView>
        rowKey="alipayUserId"
        size="small"
        loading={blocks.loading}
        dataSource={blocks.data ?? []}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        locale={{ emptyText: t('privacy.noBlocks') }}
        columns={[
          { title: t('members.alipayUserId'), dataIndex: 'alipayUserId' },
          { title: t('privacy.reason'), dataIndex: 'reason' },
          { title: t('audit.at'), dataIndex: 'createdAt', render: (v: string) => formatTime(v) },
          ...(canWrite
            ? [
                {
                  title: '',
                  key: 'unblock',
                  render: (_: unknown, b: ClaimBlockView) => (
                    <Button
                      size="small"
                      onClick={async () => {
                        try {
                          await api(
                            'DELETE',
                            `/api/merchants/${merchant.id}/claim-blocks/${b.alipayUserId}`,
                          )
                          blocks.reload()
                        } catch (e) {
                          report(e)
                        }
                      }}
                    >
                      {t('privacy.unblock')}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Card>
  )
}
