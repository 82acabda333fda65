/**
 * Architecture rules (DESIGN.md "Layout", style-anchors §4.2/§4.4). `npm run lint` fails on a violation;
 * packages/server/test/dependency-rules.test.ts proves each rule catches a deliberate one.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'emulator-is-a-third-party',
      comment: 'The emulator stands in for Alipay: it may not share our server or domain code.',
      severity: 'error',
      from: { path: '^packages/emulator/' },
      to: { path: '^packages/(server|contracts|crm-sdk|console)/|^examples/' },
    },
    {
      name: 'crm-sdk-node-crypto-only',
      comment: 'Merchant CRMs install crm-sdk alone: nothing but node: built-ins.',
      severity: 'error',
      from: { path: '^packages/crm-sdk/src/' },
      to: { dependencyTypesNot: ['core'], pathNot: '^packages/crm-sdk/' },
    },
    {
      name: 'contracts-typebox-only',
      severity: 'error',
      from: { path: '^packages/contracts/src/' },
      to: { pathNot: ['^packages/contracts/', 'node_modules/@sinclair/typebox'] },
    },
    {
      name: 'alipay-no-kaguan-packages',
      comment: 'The protocol library knows nothing of our server or its contracts.',
      severity: 'error',
      from: { path: '^packages/alipay/src/' },
      to: { path: '^packages/(server|contracts|emulator|crm-sdk|console)/|^examples/' },
    },
    {
      name: 'console-contracts-only',
      comment:
        'The console talks to the admin API only: of our packages it may use @kaguan/contracts alone.',
      severity: 'error',
      from: { path: '^packages/console/' },
      to: { path: '^packages/(server|alipay|crm-sdk|emulator)/|^examples/' },
    },
    {
      name: 'only-server-runs-the-server',
      comment:
        'No package but the server (and the examples through HTTP only) may import @kaguan/server.',
      severity: 'error',
      from: { pathNot: '^packages/server/' },
      to: { path: '^packages/server/' },
    },
    {
      name: 'modules-never-import-fastify',
      comment: 'A domain module does not know it is on HTTP.',
      severity: 'error',
      from: { path: '^packages/server/src/modules/' },
      to: { path: 'node_modules/(fastify|@fastify/)' },
    },
    {
      name: 'modules-never-import-surfaces',
      severity: 'error',
      from: { path: '^packages/server/src/modules/' },
      to: { path: '^packages/server/src/(http|cli|roles)/' },
    },
    {
      name: 'module-private',
      comment: 'Other code reaches a module through its index.ts, never its services, repository or tables.',
      severity: 'error',
      from: { path: '^packages/server/src/modules/([^/]+)/' },
      to: {
        path: '^packages/server/src/modules/([^/]+)/.+[.](service|repository|table)[.]ts$',
        pathNot: '^packages/server/src/modules/$1/',
      },
    },
    {
      name: 'module-private-outside',
      severity: 'error',
      from: {
        path: '^packages/server/src/',
        pathNot: ['^packages/server/src/modules/', '^packages/server/src/db/'],
      },
      to: { path: '^packages/server/src/modules/[^/]+/.+[.](service|repository|table)[.]ts$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)(dist|var)/', 'test/fixtures/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.base.json') },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@kaguan/source', 'import', 'node', 'default'],
    },
  },
}
