import { Alert, Card, Col, Row, Segmented, Statistic, Table } from 'antd'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import { api, queryString } from '../api/client.js'
import type { Dashboard } from '../api/types.js'
import { useLoad } from '../components/hooks.js'
import { LoadError } from '../components/LoadError.js'
import { PageHeader } from '../components/PageHeader.js'
import { formatTime } from '../lib/format.js'
import { useMerchant } from '../session.js'

export function DashboardPage() {
  const { t } = useTranslation()
  const merchant = useMerchant()
  const [days, setDays] = useState(30)
  const data = useLoad(
    () => api<Dashboard>('GET', `/api/dashboard${queryString({ merchantId: merchant.id, days })}`),
    [merchant.id, days],
  )
  const d = data.data
  return (
    <>
      <PageHeader
        title={t('dashboard.title')}
        subtitle={merchant.name}
        extra={
          <Segmented<number>
            value={days}
            onChange={setDays}
            options={[7, 30, 90].map((n) => ({
              value: n,
              label: t('dashboard.days', { count: n }),
            }))}
          />
        }
      />
      {!merchant.alipay.configured && (
        <Alert
          style={{ marginBottom: 16 }}
          type="info"
          showIcon
          message={t('dashboard.setupFirst')}
        />
      )}
      {data.error ? (
        <LoadError error={data.error} onRetry={data.reload} />
      ) : (
        <Row gutter={[16, 16]}>
          {(
            [
              ['activeCards', d?.activeCards],
              ['pointsIssued', d?.pointsIssued],
              ['pointsRedeemed', d?.pointsRedeemed],
              ['stampsIssued', d?.stampsIssued],
              ['stampsRedeemed', d?.stampsRedeemed],
              ['outboxPending', d?.outbox.pending],
              ['outboxParked', d?.outbox.parked],
            ] as const
          ).map(([key, value]) => (
            <Col key={key} flex="1 0 140px">
              <Card loading={data.loading}>
                <Statistic
                  title={t(`dashboard.${key}`)}
                  value={value ?? 0}
                  valueStyle={
                    key === 'outboxParked' && (value ?? 0) > 0 ? { color: '#cf1322' } : undefined
                  }
                />
              </Card>
            </Col>
          ))}
        </Row>
      )}
      {!data.error && (
        <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
          <Col xs={24} xl={16}>
            <Card title={t('dashboard.claimsPerDay')} loading={data.loading}>
              <div style={{ height: 260 }} data-testid="claims-chart">
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={d?.claimsPerDay ?? []}>
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="date" tickFormatter={(v: string) => v.slice(5)} />
                    <YAxis allowDecimals={false} />
                    <Tooltip />
                    <Bar
                      dataKey="count"
                      name={t('dashboard.claims')}
                      fill="#1677ff"
                      isAnimationActive={false}
                    />
                  </BarChart>
                </ResponsiveContainer>
              </div>
            </Card>
          </Col>
          <Col xs={24} xl={8}>
            <Card title={t('dashboard.pointsAndStamps')} loading={data.loading}>
              <div style={{ height: 260 }} data-testid="points-stamps-chart">
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart
                    data={[
                      {
                        kind: t('dashboard.points'),
                        issued: d?.pointsIssued ?? 0,
                        redeemed: d?.pointsRedeemed ?? 0,
                      },
                      {
                        kind: t('dashboard.stamps'),
                        issued: d?.stampsIssued ?? 0,
                        redeemed: d?.stampsRedeemed ?? 0,
                      },
                    ]}
                  >
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="kind" />
                    <YAxis allowDecimals={false} />
                    <Tooltip />
                    <Legend />
                    <Bar
                      dataKey="issued"
                      name={t('dashboard.issued')}
                      fill="#1677ff"
                      isAnimationActive={false}
                    />
                    <Bar
                      dataKey="redeemed"
                      name={t('dashboard.redeemed')}
                      fill="#fa8c16"
                      isAnimationActive={false}
                    />
                  </BarChart>
                </ResponsiveContainer>
              </div>
            </Card>
          </Col>
          <Col xs={24} xl={8}>
            <Card
              title={t('dashboard.claimRefusals')}
              extra={t('dashboard.claimRefusalsHelp')}
              loading={data.loading}
            >
              <div style={{ height: 240 }} data-testid="refusals-chart">
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart
                    layout="vertical"
                    data={(d?.claimRefusals ?? []).map((r) => ({
                      reason: t(`dashboard.refusal.${r.errcode}`, { defaultValue: r.errcode }),
                      count: r.count,
                    }))}
                    margin={{ left: 16 }}
                  >
                    <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                    <XAxis type="number" allowDecimals={false} />
                    <YAxis type="category" dataKey="reason" width={96} />
                    <Tooltip />
                    <Bar
                      dataKey="count"
                      name={t('dashboard.refused')}
                      fill="#cf1322"
                      isAnimationActive={false}
                    />
                  </BarChart>
                </ResponsiveContainer>
              </div>
            </Card>
          </Col>
          <Col xs={24} xl={16}>
            <Card title={t('dashboard.recentFailures')}>
              <Table
                rowKey={(r) => `${r.at}-${r.errcode}-${r.memberRef ?? ''}`}
                size="small"
                loading={data.loading}
                dataSource={d?.recentClaimFailures ?? []}
                pagination={false}
                locale={{ emptyText: t('dashboard.noFailures') }}
                columns={[
                  { title: t('audit.at'), dataIndex: 'at', render: (v: string) => formatTime(v) },
                  { title: t('dashboard.errcode'), dataIndex: 'errcode' },
                  { title: t('dashboard.reason'), dataIndex: 'reason' },
                  {
                    title: t('dashboard.member'),
                    dataIndex: 'memberRef',
                    render: (v?: string) => v ?? '—',
                  },
                ]}
              />
            </Card>
          </Col>
        </Row>
      )}
    </>
  )
}
