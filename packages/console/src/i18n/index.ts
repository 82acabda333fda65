import i18next from 'i18next'
import { initReactI18next } from 'react-i18next'
import { en } from './en.js'
import { zhCN } from './zh-CN.js'

export const LANGUAGES = ['zh-CN', 'en'] as const
export type Language = (typeof LANGUAGES)[number]

const STORAGE_KEY = 'kaguan.language'

/** The language chosen before in this browser; Chinese unless English was picked. */
export function storedLanguage(): Language {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

export function rememberLanguage(language: Language): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, language)
  } catch {
    // Private mode without storage: the choice lasts until the page reloads.
  }
}

void i18next.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  lng: storedLanguage(),
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  returnNull: false,
})

export { i18next }
