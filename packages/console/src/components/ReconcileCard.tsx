import { Alert, Button, Card, Descriptions, List, Progress, Typography } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { api } from '../api/client.js'
import { useErrorReporter } from './hooks.js'

interface ReconcileReport {
  checked: number
  repushed: string[]
  deleted: string[]
  failed: { cardId: string; error: string }[]
}

/**
 * 核对: compares every active card with what Alipay shows and repairs drift. The API answers when
 * it is done, so the bar runs until then and the report replaces it.
 */
export function ReconcileCard({ merchantId }: { merchantId: string }) {
  const { t } = useTranslation()
  const report = useErrorReporter()
  const [running, setRunning] = useState(false)
  const [result, setResult] = useState<ReconcileReport>()
  return (
    <Card
      size="small"
      title={t('deliveries.reconcile.title')}
      extra={t('deliveries.reconcile.help')}
      style={{ marginTop: 16 }}
    >
      <Button
        loading={running}
        data-testid="reconcile"
        onClick={async () => {
          setRunning(true)
          setResult(undefined)
          try {
            setResult(
              await api<ReconcileReport>('POST', `/api/merchants/${merchantId}/reconcile`, {}),
            )
          } catch (e) {
            report(e)
          } finally {
            setRunning(false)
          }
        }}
      >
        {t('deliveries.reconcile.run')}
      </Button>
      {running && (
        <Progress percent={99} status="active" showInfo={false} style={{ marginTop: 12 }} />
      )}
      {result && (
        <Alert
          style={{ marginTop: 12 }}
          type={result.failed.length ? 'warning' : 'success'}
          showIcon
          message={t('deliveries.reconcile.done', { checked: result.checked })}
          description={
            <>
              <Descriptions size="small" column={3}>
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
