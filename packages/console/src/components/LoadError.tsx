import { Alert, Button } from 'antd'
import { useTranslation } from 'react-i18next'
import { ApiError } from '../api/client.js'

/** The answer of a failed load, with a retry. */
export function LoadError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation()
  const text =
    error instanceof ApiError
      ? `${error.message} (${error.errcode})`
      : error instanceof Error
        ? error.message
        : t('common.unknownError')
  return (
    <Alert
      type="error"
      showIcon
      message={t('common.loadFailed')}
      description={text}
      action={onRetry && <Button onClick={onRetry}>{t('common.retry')}</Button>}
    />
  )
}
