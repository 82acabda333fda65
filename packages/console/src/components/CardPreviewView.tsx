import { BarcodeOutlined, QrcodeOutlined, RightOutlined } from '@ant-design/icons'
import { Typography } from 'antd'
import { useTranslation } from 'react-i18next'
import type { CardPreview } from '../lib/card-preview.js'

const phone: React.CSSProperties = {
  width: 320,
  borderRadius: 24,
  border: '8px solid #222',
  background: '#f5f5f5',
  overflow: 'hidden',
  fontSize: 13,
}

/** The card as Alipay's wallet shows it on the card page (卡包 → 会员卡), drawn from {@link CardPreview}. */
export function CardPreviewView({ preview }: { preview: CardPreview }) {
  const { t } = useTranslation()
  const p = preview
  return (
    <div style={phone} data-testid="card-preview">
      <div style={{ background: '#1677ff', color: '#fff', textAlign: 'center', padding: '8px 0' }}>
        {t('preview.walletTitle')}
      </div>
      <div style={{ padding: 12 }}>
        <div
          style={{
            position: 'relative',
            height: 180,
            borderRadius: 12,
            backgroundColor: p.backgroundColor,
            backgroundImage: p.backgroundUrl ? `url("${p.backgroundUrl}")` : undefined,
            backgroundSize: 'cover',
            backgroundPosition: 'center',
            color: p.fontColor,
            padding: 14,
            boxShadow: '0 4px 12px rgba(0,0,0,.15)',
          }}
        >
          <div style={{ display: 'flex', alignItems: 'center', gap: 10 }}>
            <div
              style={{
                width: 40,
                height: 40,
                borderRadius: '50%',
                background: '#fff',
                overflow: 'hidden',
                flex: 'none',
              }}
            >
              {p.logoUrl && (
                <img
                  src={p.logoUrl}
                  alt=""
                  style={{ width: '100%', height: '100%', objectFit: 'cover' }}
                />
              )}
            </div>
            <div style={{ fontSize: 17, fontWeight: 600 }} data-testid="preview-title">
              {p.title}
            </div>
          </div>
          <div style={{ position: 'absolute', bottom: 14, left: 14, letterSpacing: 1 }}>
            {p.cardNo}
          </div>
        </div>
        {p.cells.length > 0 && (
          <div
            style={{
              display: 'flex',
              background: '#fff',
              borderRadius: 8,
              marginTop: 12,
              padding: '10px 0',
            }}
          >
            {p.cells.slice(0, 4).map((c, i) => (
              <div key={i} style={{ flex: 1, textAlign: 'center' }} data-testid="preview-cell">
                <div style={{ fontSize: 16, fontWeight: 600 }}>
                  {c.link ? <RightOutlined /> : c.value}
                </div>
                <div style={{ color: '#999', fontSize: 12 }}>{c.title}</div>
              </div>
            ))}
          </div>
        )}
        {p.code.kind !== 'none' && (
          <div
            style={{
              background: '#fff',
              borderRadius: 8,
              marginTop: 12,
              padding: 12,
              textAlign: 'center',
            }}
          >
            {p.code.kind === 'qr' ? (
              <QrcodeOutlined style={{ fontSize: 28 }} />
            ) : (
              <BarcodeOutlined style={{ fontSize: 28 }} />
            )}
            <div>
              {p.code.dynamic
                ? t('preview.dynamicCode', { seconds: p.code.refreshSeconds })
                : t('preview.showCode')}
            </div>
          </div>
        )}
        <div style={{ background: '#fff', borderRadius: 8, marginTop: 12 }}>
          {p.actions.map((a, i) => (
            <div
              key={i}
              style={{
                display: 'flex',
                justifyContent: 'space-between',
                padding: '10px 12px',
                borderBottom: '1px solid #f0f0f0',
              }}
            >
              <span>{a.text}</span>
              <RightOutlined style={{ color: '#bbb' }} />
            </div>
          ))}
          <div style={{ padding: '10px 12px', color: '#666' }}>
            {p.validity.kind === 'permanent'
              ? t('preview.validPermanent')
              : p.validity.kind === 'fixedEnd'
                ? t('preview.validUntil', { date: p.validity.endDate })
                : t('preview.validDays', { days: p.validity.days })}
          </div>
          {p.servicePhone && (
            <div style={{ padding: '0 12px 10px', color: '#666' }}>
              {t('preview.servicePhone')}: {p.servicePhone}
            </div>
          )}
          {p.shopNames.length > 0 && (
            <div style={{ padding: '0 12px 10px', color: '#666' }}>
              {t('preview.shops')}: {p.shopNames.join('、')}
            </div>
          )}
        </div>
        {p.actions.some((a) => a.inCardBag) && (
          <>
            <Typography.Text
              type="secondary"
              style={{ display: 'block', marginTop: 12, fontSize: 12 }}
            >
              {t('preview.inCardList')}
            </Typography.Text>
            <div style={{ display: 'flex', gap: 8, marginTop: 4 }}>
              {p.actions
                .filter((a) => a.inCardBag)
                .map((a, i) => (
                  <span
                    key={i}
                    style={{ background: '#fff', borderRadius: 12, padding: '2px 10px' }}
                  >
                    {a.text}
                  </span>
                ))}
            </div>
          </>
        )}
      </div>
    </div>
  )
}
