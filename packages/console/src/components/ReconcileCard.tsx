import type { ReconcileJobView } from '@kaguan/contracts'
import { Alert, Button, Card, Descriptions, List, Progress, Space, Typography } from 'antd'
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { useErrorReporter } from './hooks.js'

const POLL_MS = 500

/**
 * 核对: compares every active card with what Alipay shows and repairs drift. Starting answers a
 * job at once; the card polls it, shows checked/total on a real bar, then the report.
 */
export function ReconcileCard({ merchantId }: { merchantId: string }) {
  const { t } = useTranslation()
  const report = useErrorReporter()
  const [starting, setStarting] = useState(false)
  const [job, setJob] = useState<ReconcileJobView>()
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])

  const follow = (current: ReconcileJobView) => {
    setJob(current)
    if (current.status !== 'running') {
      return
    }
    timer.current = setTimeout(async () => {
      try {
        follow(
          await api<ReconcileJobView>(
            'GET',
            `/api/merchants/${merchantId}/reconcile/${current.jobId}`,
          ),
        )
      } catch (e) {
        setJob(undefined)
        report(e)
      }
    }, POLL_MS)
  }

  const running = job?.status === 'running'
  const result = job?.status === 'done' ? job.report : null
  const percent = job && job.total > 0 ? Math.floor((job.checked * 100) / job.total) : 0
  return (
    <Card
      size="small"
      title={t('deliveries.reconcile.title')}
      extra={t('deliveries.reconcile.help')}
      style={{ marginTop: 16 }}
    >
      <Button
        loading={starting || running}
        data-testid="reconcile"
        onClick={async () => {
          setStarting(true)
          clearTimeout(timer.current)
          try {
            follow(
              await api<ReconcileJobView>('POST', `/api/merchants/${merchantId}/reconcile`, {}),
            )
          } catch (e) {
            report(e)
          } finally {
            setStarting(false)
          }
        }}
      >
        {t('deliveries.reconcile.run')}
      </Button>
      {running && (
        <Space direction="vertical" style={{ width: '100%', marginTop: 12 }} size={4}>
          <Progress
            percent={percent}
            status="active"
            data-testid="reconcile-progress"
            format={() => `${job.checked} / ${job.total}`}
          />
          <Typography.Text type="secondary">
            {t('deliveries.reconcile.progress', { checked: job.checked, total: job.total })}
          </Typography.Text>
        </Space>
      )}
      {job?.status === 'failed' && (
        <Alert
          style={{ marginTop: 12 }}
          type="error"
          showIcon
          message={t('deliveries.reconcile.stopped', { checked: job.checked, total: job.total })}
          description={job.error}
        />
      )}
      {result && (
        <Alert
          style={{ marginTop: 12 }}
          data-testid="reconcile-report"
          type={result.failed.length ? 'warning' : 'success'}
          showIcon
          message={t('deliveries.reconcile.done', { checked: result.checked })}
          description={
            <>
              <Progress
                percent={100}
                size="small"
                format={() => `${result.checked} / ${job?.total ?? result.checked}`}
              />
              <Descriptions size="small" column={4}>
                <Descriptions.Item label={t('deliveries.reconcile.inStep')}>
                  {result.checked -
                    result.repushed.length -
                    result.deleted.length -
                    result.failed.length}
                </Descriptions.Item>
                <Descriptions.Item label={t('deliveries.reconcile.repushed')}>
                  {result.repushed.length}
                </Descriptions.Item>
                <Descriptions.Item label={t('deliveries.reconcile.deleted')}>
                  {result.deleted.length}
                </Descriptions.Item>
                <Descriptions.Item label={t('deliveries.reconcile.failed')}>
                  {result.failed.length}
                </Descriptions.Item>
              </Descriptions>
              {result.repushed.length + result.deleted.length > 0 && (
                <List
                  size="small"
                  header={t('deliveries.reconcile.drifts')}
                  dataSource={[
                    ...result.repushed.map((cardId) => ({
                      cardId,
                      what: t('deliveries.reconcile.repushed'),
                    })),
                    ...result.deleted.map((cardId) => ({
                      cardId,
                      what: t('deliveries.reconcile.deleted'),
                    })),
                  ]}
                  renderItem={(d) => (
                    <List.Item>
                      <Typography.Text code>{d.cardId}</Typography.Text> {d.what}
                    </List.Item>
                  )}
                />
              )}
              {result.failed.length > 0 && (
                <List
                  size="small"
                  dataSource={result.failed}
                  renderItem={(f) => (
                    <List.Item>
                      <Typography.Text code>{f.cardId}</Typography.Text> {f.error}
                    </List.Item>
                  )}
                />
              )}
            </>
          }
        />
      )}
    </Card>
  )
}
