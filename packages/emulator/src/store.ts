import Database from 'better-sqlite3'

/** The emulator's state: a plain SQLite schema, JSON in `data` columns where Alipay's shapes are deep. */
const schema = `
create table if not exists kv (key text primary key, value text not null);
create table if not exists apps (app_id text primary key, data text not null);
create table if not exists app_auth_tokens (token text primary key, isv_app_id text not null, merchant_app_id text not null);
create table if not exists app_auth_codes (code text primary key, isv_app_id text not null, merchant_app_id text not null,
  user_id text not null, used integer not null default 0, expires_at integer not null);
create table if not exists app_auth_grants (token text primary key, refresh_token text not null unique, isv_app_id text not null,
  merchant_app_id text not null, user_id text not null, status text not null, expires_at integer not null,
  re_expires_at integer not null, auth_start integer not null);
create table if not exists users (user_id text primary key, data text not null, created_at text not null);
create table if not exists shops (shop_id text primary key, data text not null);
create table if not exists images (image_id text primary key, app_id text not null, image_type text not null,
  image_name text not null, bytes blob not null, created_at text not null);
create table if not exists templates (template_id text primary key, app_id text not null, request_id text not null,
  data text not null, notify_url text, form text, seq integer not null default 0, created_at text not null,
  unique (app_id, request_id));
create table if not exists activate_urls (apply_id text primary key, app_id text not null, template_id text not null,
  callback text, out_string text, follow_app_id text, created_at text not null);
create table if not exists submissions (request_id text primary key, apply_id text not null, app_id text not null,
  template_id text not null, user_id text not null, infos text not null, created_at text not null);
create table if not exists auth_codes (code text primary key, app_id text not null, user_id text not null,
  used integer not null default 0, expires_at integer not null);
create table if not exists tokens (access_token text primary key, refresh_token text not null unique, app_id text not null,
  user_id text not null, expires_at integer not null, uses integer not null default 0, refreshed integer not null default 0);
create table if not exists cards (biz_card_no text primary key, app_id text not null, template_id text not null,
  user_id text not null, external_card_no text not null, out_serial_no text not null, status text not null,
  data text not null, created_at text not null, unique (app_id, out_serial_no));
create index if not exists cards_user on cards (user_id, template_id);
create index if not exists cards_external on cards (app_id, external_card_no);
create table if not exists card_deletes (app_id text not null, out_serial_no text not null, biz_card_no text not null,
  biz_serial_no text not null, primary key (app_id, out_serial_no));
create table if not exists card_messages (app_id text not null, notify_no text not null, biz_card_no text not null,
  notify_type text not null, info text not null, occur_time text not null, created_at text not null,
  primary key (app_id, notify_no));
create table if not exists dynamic_codes (code text primary key, biz_card_no text not null, expires_at integer not null);
create table if not exists activities (camp_id text primary key, app_id text not null, out_biz_no text not null,
  item_id text, notify_url text, data text not null, created_at text not null, unique (app_id, out_biz_no));
create table if not exists point_entries (point_log_no text primary key, app_id text not null, req_id text not null,
  activity_account text not null, user_id text not null, trans_type text not null, amount integer not null,
  biz_no text, fingerprint text not null, resolved_by text, created_at text not null, unique (app_id, req_id));
create table if not exists prize_tokens (token text primary key, app_id text not null, req_id text not null,
  prize_id text not null, user_id text not null, used integer not null default 0, expires_at integer not null,
  unique (app_id, req_id));
create table if not exists coupons (coupon_id text primary key, camp_id text not null, user_id text not null,
  out_biz_no text not null, token text not null, created_at text not null);
create table if not exists trades (trade_no text primary key, data text not null, created_at text not null);
create table if not exists calls (id integer primary key autoincrement, time text not null, method text,
  app_id text, biz_content text, params text not null, code text not null, sub_code text, response text not null);
create table if not exists notifications (id text primary key, kind text not null, app_id text not null, url text not null,
  params text not null, status text not null, attempts integer not null default 0, next_at integer,
  last_status integer, last_body text, created_at text not null, delivered_at text);
`

/** Opens (and creates) the emulator database. */
export function openStore(file: string): Database.Database {
  const db = new Database(file)
  if (file !== ':memory:') {
    db.pragma('journal_mode = WAL')
  }
  db.exec(schema)
  return db
}

/** Parses a JSON `data` column. */
export function json<T>(text: string): T {
  return JSON.parse(text) as T
}
