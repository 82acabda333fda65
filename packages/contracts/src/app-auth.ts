import { Type, type Static } from '@sinclair/typebox'
import { MerchantView } from './merchants.js'

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

/** A merchant onboarded by third-party app authorisation (第三方应用授权), as the console shows it. */
export const AppAuthView = Type.Object({
  merchantId: Type.String(),
  merchantName: Type.String(),
  status: Type.Union(
    [Type.Literal('pending'), Type.Literal('authorised'), Type.Literal('revoked')],
    {
      description:
        '`pending`: the link is waiting for the owner; `authorised`: kaguan calls Alipay for it with the ISV app; `revoked`: the owner withdrew it (calls stop, a new link re-authorises)',
    },
  ),
  isvAppId: Type.String(),
  link: Nullable(
    Type.String({
      description: "Alipay's authorisation page for the merchant's owner (also as QR)",
    }),
  ),
  authAppId: Nullable(Type.String({ description: "the merchant's authorised app id" })),
  authUserId: Nullable(Type.String({ description: "the merchant's Alipay user id (2088…)" })),
  tokenExpiresAt: Nullable(Type.String()),
  refreshExpiresAt: Nullable(Type.String()),
  authorisedAt: Nullable(Type.String()),
  refreshedAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
  lastError: Nullable(Type.String()),
  createdAt: Type.String(),
})
export type AppAuthView = Static<typeof AppAuthView>

export const OnboardBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)
export type OnboardBody = Static<typeof OnboardBody>

export const OnboardResult = Type.Object({ merchant: MerchantView, appAuth: AppAuthView })
export type OnboardResult = Static<typeof OnboardResult>
