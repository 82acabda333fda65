import { App, type FormInstance } from 'antd'
import { useCallback, useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { ApiError } from '../api/client.js'
import { placeProblems } from '../lib/fields.js'

/**
 * Shows an API error as the API worded it, and marks the fields it names on `form` (when given);
 * problems of fields the form does not have stay in the message only.
 */
export function useErrorReporter(): (error: unknown, form?: FormInstance) => void {
  const { message } = App.useApp()
  const { t } = useTranslation()
  return useCallback(
    (error: unknown, form?: FormInstance) => {
      if (!(error instanceof ApiError)) {
        void message.error(error instanceof Error ? error.message : t('common.unknownError'))
        return
      }
      if (form && error.fields.length > 0) {
        const known = new Set(form.getFieldsError().map((f) => JSON.stringify(f.name)))
        const { placed } = placeProblems(error.fields, (p) => known.has(JSON.stringify(p)))
        form.setFields(placed.map((p) => ({ name: p.name, errors: p.errors })))
      }
      void message.error({ content: `${error.message} (${error.errcode})`, duration: 8 })
    },
    [message, t],
  )
}

export interface Loaded<T> {
  data: T | undefined
  loading: boolean
  error: unknown
  reload(): void
}

/** Runs `load` now and whenever `deps` change; a late answer to an old request is dropped. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T>()
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState<unknown>()
  const [tick, setTick] = useState(0)
  const latest = useRef(0)
  useEffect(() => {
    const id = ++latest.current
    setLoading(true)
    load().then(
      (value) => {
        if (id === latest.current) {
          setData(value)
          setError(undefined)
          setLoading(false)
        }
      },
      (e: unknown) => {
        if (id === latest.current) {
          setError(e)
          setLoading(false)
        }
      },
    )
    // The caller lists what `load` depends on, as with useEffect.
  }, [...deps, tick])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { data, loading, error, reload }
}
