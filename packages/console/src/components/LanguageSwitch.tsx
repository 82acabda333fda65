import { Segmented } from 'antd'
import { useTranslation } from 'react-i18next'
import { rememberLanguage, type Language } from '../i18n/index.js'

/** 中文 / English; the choice is kept in this browser. */
export function LanguageSwitch() {
  const { i18n, t } = useTranslation()
  const value: Language = i18n.language === 'en' ? 'en' : 'zh-CN'
  return (
    <Segmented<Language>
      data-testid="language-switch"
      value={value}
      options={[
        { label: t('language.zh'), value: 'zh-CN' },
        { label: t('language.en'), value: 'en' },
      ]}
      onChange={(language) => {
        rememberLanguage(language)
        void i18n.changeLanguage(language)
      }}
    />
  )
}
