import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run dev -w @kaguan/console` proxies /api to a running management role (npm start's default).
const api = process.env.KAGUAN_CONSOLE_API ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the management role serves dist/ at `/`, and nothing here assumes more.
  base: './',
  resolve: { conditions: ['@kaguan/source', 'module', 'browser', 'default'] },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 3000 },
  server: { proxy: { '/api': { target: api, changeOrigin: false } } },
})
