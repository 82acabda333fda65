// Request/response shapes of the OpenAPI methods kaguan uses, in Alipay's own snake_case.
// Field lists follow reference/alipay-card-api.md §3 and reference/koubei-points-api.md §2-5.
// Dates are `yyyy-MM-dd HH:mm:ss` strings (Asia/Shanghai); numbers travel as strings.

/** `write_off_type` of a card template: how the card's code is shown at the till. */
export type WriteOffType =
  'qrcode' | 'barcode' | 'dqrcode' | 'dbarcode' | 'mdqrcode' | 'mdbarcode' | 'none' | 'text'

/** TemplateStyleInfoDTO. */
export interface TemplateStyleInfo {
  card_show_name?: string
  logo_id?: string
  background_id?: string
  /** Font colour of the middle info area (despite its name), e.g. `rgb(55,112,179)`. */
  bg_color?: string
  brand_name?: string
  slogan?: string
  slogan_img_id?: string
  banner_img_id?: string
  banner_url?: string
  feature_descriptions?: string[]
  front_text_list_enable?: boolean
  front_image_enable?: boolean
  column_info_layout?: 'list' | 'grid'
}

/** MoreInfoDTO of a column. */
export interface MoreInfo {
  title?: string
  url?: string
  params?: string
  descs?: string[]
}

/** TemplateColumnInfoDTO: a line on the card detail page (`POINT`, `LEVEL`, `BALANCE`, ...). */
export interface TemplateColumnInfo {
  code: string
  title?: string
  value?: string
  operate_type?: 'openNative' | 'openWeb' | 'staticinfo'
  more_info?: MoreInfo
  icon_id?: string
  tag?: string
  group_title?: string
}

/** TemplateFieldRuleDTO: how a card field is filled at open time. */
export interface TemplateFieldRule {
  field_name: 'Balance' | 'Point' | 'Level' | 'OpenDate' | 'ValidDate'
  rule_name: 'ASSIGN_FROM_REQUEST' | 'DATE_IN_FUTURE' | 'CONST'
  rule_value: string
}

/** TemplateActionInfoDTO: an action point on the card (max 4). */
export interface TemplateActionInfo {
  code: string
  text: string
  url_type?: 'url' | 'miniAppUrl'
  url?: string
  mini_app_url?: {
    mini_app_id: string
    mini_page_param?: string
    mini_query_param?: string
    display_on_list?: 'true' | 'false'
  }
}

/** TemplateOpenCardConfDTO. */
export interface TemplateOpenCardConf {
  open_card_source_type?: 'ISV' | 'MER'
  source_app_id?: string
  open_card_url?: string
  conf?: string
  card_rights?: { title?: string; detail?: string }[]
}

/** TemplateCardLevelConfDTO. */
export interface TemplateCardLevelConf {
  level: string
  level_show_name?: string
  level_icon?: string
  level_desc?: string
}

/** TemplateMdcodeNotifyConfDTO: where Alipay asks for a merchant dynamic code. */
export interface TemplateMdcodeNotifyConf {
  /** https only. */
  url: string
  ext_params?: string
}

/** TemplateBenefitInfoDTO. */
export interface TemplateBenefitInfo {
  title?: string
  benefit_desc?: string[]
  start_date?: string
  end_date?: string
}

/** The template body shared by create, modify and query. */
export interface CardTemplateBody {
  biz_no_prefix?: string
  /** String of 8..32 ("20" recommended). */
  biz_no_suffix_len?: string
  write_off_type?: WriteOffType
  template_style_info?: TemplateStyleInfo
  template_benefit_info?: TemplateBenefitInfo[]
  column_info_list?: TemplateColumnInfo[]
  field_rule_list?: TemplateFieldRule[]
  card_action_list?: TemplateActionInfo[]
  open_card_conf?: TemplateOpenCardConf
  /** Append-only: Alipay never removes a shop from a template. */
  shop_ids?: string[]
  pub_channels?: { pub_channel: string; ext_info?: string }[]
  card_level_conf?: TemplateCardLevelConf[]
  mdcode_notify_conf?: TemplateMdcodeNotifyConf
  service_label_list?: string[]
  spi_app_id?: string
  template_form_config?: {
    fields?: { required?: string[]; optional?: string[] }
    open_card_mini_app_id?: string
  }
}

/** biz_content of `alipay.marketing.card.template.create`. */
export interface CardTemplateCreate extends CardTemplateBody {
  /** Unique per request (idempotency). */
  request_id: string
  card_type: 'OUT_MEMBER_CARD'
  biz_no_suffix_len: string
}

/** biz_content of `alipay.marketing.card.template.modify` (`field_rule_list` is ignored by Alipay). */
export interface CardTemplateModify extends CardTemplateBody {
  request_id: string
  template_id: string
}

/** Response of `alipay.marketing.card.template.query`. */
export interface CardTemplateQueryResult extends Omit<CardTemplateBody, 'card_level_conf'> {
  card_type?: string
  /** Plural here, singular (`card_level_conf`) on create/modify. */
  card_level_confs?: TemplateCardLevelConf[]
}

/** The form fields a claim form can ask for (`common_fields` values). */
export type OpenFormField =
  | 'OPEN_FORM_FIELD_MOBILE'
  | 'OPEN_FORM_FIELD_GENDER'
  | 'OPEN_FORM_FIELD_NAME'
  | 'OPEN_FORM_FIELD_BIRTHDAY'
  | 'OPEN_FORM_FIELD_BIRTHDAY_WITH_YEAR'
  | 'OPEN_FORM_FIELD_IDCARD'
  | 'OPEN_FORM_FIELD_CERT_TYPE'
  | 'OPEN_FORM_FIELD_CERT_NO'
  | 'OPEN_FORM_FIELD_EMAIL'
  | 'OPEN_FORM_FIELD_ADDRESS'
  | 'OPEN_FORM_FIELD_CITY'
  | 'OPEN_FORM_FIELD_IS_STUDENT'
  | 'OPEN_FORM_FIELD_MEMBER_GRADE'

/** `{"common_fields":[...]}`: Alipay wants it as a JSON *string*; the client stringifies objects. */
export interface FormFieldList {
  common_fields: OpenFormField[]
}

/** biz_content of `alipay.marketing.card.formtemplate.set`. */
export interface FormTemplateSet {
  template_id: string
  fields: { required: FormFieldList | string; optional?: FormFieldList | string }
}

/** biz_content of `alipay.marketing.card.activateurl.apply`. */
export interface ActivateUrlApply {
  template_id: string
  out_string?: string
  /** Must equal the app's 授权回调地址 and carry no query, or users see ERR010. */
  callback?: string
  follow_app_id?: string
}

/** Response of `alipay.marketing.card.activateurl.apply`. */
export interface ActivateUrlApplyResult {
  /** URL-encoded by Alipay: pass it through {@link decodeApplyCardUrl} before use. */
  apply_card_url: string
}

/** Response of `alipay.system.oauth.token`. */
export interface OauthTokenResult {
  user_id?: string
  open_id?: string
  union_id?: string
  access_token: string
  expires_in?: string
  refresh_token?: string
  re_expires_in?: string
  auth_start?: string
  auth_token_type?: string
}

/**
 * One merchant's grant in the answer of `alipay.open.auth.token.app` (第三方应用授权). Older answers
 * carry these fields flat; newer ones (batch authorisation) list them under `tokens` (docs/alipay-app-auth.md).
 */
export interface AppAuthGrant {
  /** 应用授权令牌: sent as `app_auth_token` on every call made for the merchant. */
  app_auth_token: string
  app_refresh_token?: string
  /** The authorising merchant's app id. */
  auth_app_id?: string
  /** The authorising merchant's Alipay user id (2088…). */
  user_id?: string
  /** Seconds from now (a number or a numeric string). */
  expires_in?: string | number
  re_expires_in?: string | number
}

/** Answer of `alipay.open.auth.token.app`, normalised to one grant (the first of `tokens`). */
export type AppAuthTokenResult = AppAuthGrant

/** Answer of `alipay.open.auth.token.app.query`. */
export interface AppAuthTokenQueryResult {
  user_id?: string
  auth_app_id?: string
  expires_in?: string | number
  auth_methods?: string[] | string
  auth_start?: string
  auth_end?: string
  /** `valid` or `invalid`. */
  status?: string
}

/** biz_content of `alipay.marketing.card.activateform.query` (needs the user's `authToken`). */
export interface ActivateFormQuery {
  biz_type: 'MEMBER_CARD'
  template_id: string
  request_id: string
}

/** Response of `alipay.marketing.card.activateform.query`. */
export interface ActivateFormQueryResult {
  /** JSON text of `[{"OPEN_FORM_FIELD_MOBILE":"..."}, ...]`; see {@link parseActivateFormInfos}. */
  infos?: string
}

/** CardUserInfo. */
export interface CardUserInfo {
  user_uni_id_type: 'UID'
  user_uni_id?: string
  open_id?: string
}

/** CardFrontTextDTO. */
export interface CardFrontText {
  label: string
  value: string
}

/** MdCodeInfoDTO (update only). */
export interface MdCodeInfo {
  code_status: 'SUCCESS' | 'FAIL_RETRY' | 'FAIL_NOT_RETRY'
  code_value?: string
  expire_time?: string
  time_stamp?: number
}

/** MerchantCard: `card_ext_info` on open, `card_info` on update, query and responses. */
export interface MerchantCard {
  /** Alipay's card number; returned, never sent. */
  biz_card_no?: string
  /** The merchant's (CRM's) card number. */
  external_card_no?: string
  open_date?: string
  valid_date?: string
  level?: string
  point?: string
  balance?: string
  /** Update only: switch the card to another template. */
  template_id?: string
  front_text_list?: CardFrontText[]
  front_image_id?: string
  mdcode_info?: MdCodeInfo
}

/** MerchantMenber (sic): member info given at open. */
export interface MerchantMember {
  name?: string
  cell?: string
  /** (sic) */
  gende?: 'MALE' | 'FEMALE' | string
  birth?: string
}

/** biz_content of `alipay.marketing.card.open` (needs the user's `authToken`). */
export interface CardOpen {
  out_serial_no: string
  card_template_id: string
  card_user_info: CardUserInfo
  card_ext_info: MerchantCard & { external_card_no: string }
  member_ext_info?: MerchantMember
  open_card_channel?: string
  open_card_channel_id?: string
}

/** Response of `alipay.marketing.card.open`. */
export interface CardOpenResult {
  card_info: MerchantCard & { biz_card_no: string }
  open_card_channel?: string
  open_card_channel_id?: string
}

/** `target_card_no_type` values. */
export type TargetCardNoType = 'BIZ_CARD' | 'D_QR_CODE' | 'D_BAR_CODE' | 'EXTERNAL_CARD'

/** biz_content of `alipay.marketing.card.query`. */
export interface CardQuery {
  target_card_no: string
  target_card_no_type: TargetCardNoType
  card_user_info?: CardUserInfo
  template_id?: string
  ext_info?: string
}

/** Response of `alipay.marketing.card.query`. An empty `schema_url` means the user removed the card. */
export interface CardQueryResult {
  card_info?: MerchantCard
  schema_url?: string
  pass_id?: string
}

/** biz_content of `alipay.marketing.card.update`. */
export interface CardUpdate {
  target_card_no: string
  target_card_no_type: 'BIZ_CARD'
  occur_time: string
  card_info: MerchantCard
  merchant_card_msg_info?: { changed_point?: string }
  ext_info?: string
}

/** Response of `alipay.marketing.card.update`. */
export interface CardUpdateResult {
  result_code?: string
}

/** `notify_info` of a `POINT_REMIND` message: what expires and when (both strings, as Alipay wants). */
export interface PointRemindInfo {
  /** Points (stamps) that will expire. */
  expired_point: string
  /** When they expire, `yyyy-MM-dd HH:mm:ss` China time. */
  expired_time: string
}

/**
 * biz_content of `alipay.marketing.card.message.notify` (会员积分过期提醒, 2024): a message Alipay shows
 * the card holder. `notify_no` is the idempotency key; `notify_info` is a JSON string.
 */
export interface CardMessageNotify {
  target_card_no: string
  target_card_no_type: 'BIZ_CARD'
  notify_type: 'POINT_REMIND'
  /** JSON of {@link PointRemindInfo}. */
  notify_info: string
  notify_no: string
  occur_time: string
}

/** Response of `alipay.marketing.card.message.notify`: nothing beyond code/msg. */
export type CardMessageNotifyResult = Record<string, never>

/** biz_content of `alipay.marketing.card.delete`. */
export interface CardDelete {
  out_serial_no: string
  target_card_no: string
  target_card_no_type: 'BIZ_CARD'
  reason_code: 'USER_UNBUND' | 'CANCEL' | 'PRESENT'
  ext_info?: string
}

/** Response of `alipay.marketing.card.delete`. */
export interface CardDeleteResult {
  biz_serial_no?: string
}

/** Input of `alipay.offline.material.image.upload` (multipart; top-level params, no biz_content). */
export interface ImageUpload {
  image_type: 'jpg' | 'jpeg' | 'png' | 'gif' | 'bmp' | 'mp4'
  image_name: string
  content: Buffer
  /** File name of the multipart part; defaults to `<image_name>.<image_type>`. */
  file_name?: string
}

/** Response of `alipay.offline.material.image.upload`. */
export interface ImageUploadResult {
  image_id: string
  image_url: string
}

// --- Koubei (口碑) marketing: gone from the real Alipay since 2022, kept by the emulator. ---

/** Activity types of `koubei.marketing.campaign.activity.create`. */
export type CampaignType =
  'CONSUME_SEND' | 'DIRECT_SEND' | 'REAL_TIME_SEND' | 'GUESS_SEND' | 'RECHARGE_SEND' | 'POINT_SEND'

/** PointCard: the stamp card of a `POINT_SEND` activity. */
export interface PointCard {
  type: 'POINT_CARD'
  name: string
  desc?: string
  logo?: string
  start_time: string
  /** Must be after the activity's end. */
  end_time: string
}

/** Voucher (main fields). */
export interface Voucher {
  type: 'EXCHANGE' | 'MONEY' | 'REDUCETO' | 'RATE' | 'PER_FULL_CUT'
  name: string
  brand_name?: string
  desc?: string
  logo?: string
  voucher_img?: string
  worth_value?: string
  max_amount?: string
  rate?: string
  validate_type: 'FIXED' | 'RELATIVE'
  start_time?: string
  end_time?: string
  relative_time?: string
  effect_type?: 'IMMEDIATELY' | 'DELAY'
  use_instructions?: string[]
  use_rule?: { min_consume?: string; suit_shops?: string[] }
  verify_mode?: 'USER_CLICK' | 'MERCHANT_SCAN'
  [field: string]: unknown
}

/** PromoTool. */
export interface PromoTool {
  point_card?: PointCard
  voucher?: Voucher
  send_rule?: { allow_repeat_send?: string; send_num?: string; min_cost?: string }
  status?: string
  /** Assigned by Alipay; returned by query. */
  voucher_no?: string
}

/** PublishChannel. `ext_info` carries the claim URL (key `URL_WITH_TOKEN`) on query. */
export interface PublishChannel {
  type:
    | 'QR_CODE'
    | 'SHORT_LINK'
    | 'SHOP_DETAIL'
    | 'PAYMENT_RESULT'
    | 'MERCHANT_CROWD'
    | 'URL_WITH_TOKEN'
    | 'EXTERNAL'
  name?: string
  config?: string
  ext_info?: string
}

/** biz_content of `koubei.marketing.campaign.activity.create`. */
export interface CampaignActivityCreate {
  /** Idempotency key per owner. */
  out_biz_no: string
  name: string
  desc?: string
  type: CampaignType
  start_time: string
  end_time: string
  auto_delay_flag?: 'Y' | 'N'
  budget_info?: {
    budget_type: string
    budget_total: string
    sub_budget_dimension?: string
    sub_value?: string
  }
  constraint_info?: {
    suit_shops?: string[]
    item_ids?: string[]
    min_cost?: string
    user_win_count?: string
    user_win_frequency?: string
    crowd_restriction?: string
    crowd_restriction_value?: string
    [field: string]: unknown
  }
  promo_tools?: PromoTool[]
  publish_channels?: PublishChannel[]
  operator_id?: string
  operator_type?: 'MER' | 'MER_OPERATOR' | 'PROVIDER' | 'PROVIDER_STAFF'
  ext_info?: string
}

/** Response of `koubei.marketing.campaign.activity.create` (no prize id: query for it). */
export interface CampaignActivityCreateResult {
  camp_id: string
  camp_status?: 'STARTING' | 'STARTED' | string
  audit_status?: 'AUDITING' | 'REJECT' | string
}

/** biz_content of `koubei.marketing.campaign.activity.query`. */
export interface CampaignActivityQuery {
  camp_id: string
  operator_id?: string
  operator_type?: string
}

/** CampDetail of `koubei.marketing.campaign.activity.query`. */
export interface CampaignDetail {
  id: string
  name?: string
  desc?: string
  type?: CampaignType | string
  status?: string
  audit_status?: string
  auto_delay_flag?: string
  start_time?: string
  end_time?: string
  budget_info?: CampaignActivityCreate['budget_info']
  constraint_info?: CampaignActivityCreate['constraint_info']
  promo_tools?: PromoTool[]
  publish_channels?: PublishChannel[]
  ext_info?: string
}

/** Response of `koubei.marketing.campaign.activity.query`. */
export interface CampaignActivityQueryResult {
  camp_detail: CampaignDetail
}

/** `trans_type` of `koubei.marketing.tool.points.update`. There is no UNFREEZE: use CANCEL. */
export type PointsTransType = 'DEPOSIT' | 'FREEZE' | 'COMMIT' | 'CANCEL' | 'CONSUME'

/** biz_content of `koubei.marketing.tool.points.update`. */
export interface ToolPointsUpdate {
  /** Idempotency key. */
  req_id: string
  user_id: string
  activity_account: string
  trans_type: PointsTransType
  /** Positive integer as a string. */
  trans_amount: string
  /** DEPOSIT only. */
  shop_id?: string
  /** DEPOSIT: trade no.; COMMIT/CANCEL: the FREEZE's point_log_no; FREEZE/CONSUME: absent. */
  biz_no?: string
  memo?: string
  ext_info?: string
}

/** Response of `koubei.marketing.tool.points.update`. */
export interface ToolPointsUpdateResult {
  point_log_no: string
}

/** biz_content of `koubei.marketing.tool.points.query`. */
export interface ToolPointsQuery {
  activity_account: string
  user_id: string
}

/** Response of `koubei.marketing.tool.points.query` (note the spelling `freezed_points`). */
export interface ToolPointsQueryResult {
  total_points?: string
  available_points?: string
  freezed_points?: string
}

/** biz_content of `koubei.marketing.tool.prizesend.auth`. */
export interface PrizeSendAuth {
  req_id: string
  /** The `itemId` of the DIRECT_SEND activity's `URL_WITH_TOKEN` link. */
  prize_id: string
  user_id: string
}

/** Response of `koubei.marketing.tool.prizesend.auth`. */
export interface PrizeSendAuthResult {
  token: string
}

/**
 * `alipay.marketing.card.authinfo.query` (会员卡授权信息查询, 2024) biz_content. Assumed shape (the
 * reference calls its flow unconfirmed): the template the user is opening a card of, and the scene.
 */
export interface AuthInfoQuery {
  template_id?: string
  /** Assumed: the open-card scene; only `OPEN_CARD` is used. */
  scene?: string
}

/**
 * What the user agreed to share, per the template's form (assumed field names, the same as the
 * activate form's `common_fields`: `OPEN_FORM_FIELD_*` → these). Absent fields were not shared.
 */
export interface AuthInfoQueryResult {
  user_id?: string
  open_id?: string
  name?: string
  mobile?: string
  gender?: string
  birthday?: string
  cert_type?: string
  cert_no?: string
  email?: string
}
