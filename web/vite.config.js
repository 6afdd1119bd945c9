import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Vendor chunk groups. Order matters: the first matching group wins.
const chunkGroups = [
  { name: 'vendor-echarts', test: /node_modules[\\/](echarts|zrender)[\\/]/ },
  {
    name: 'vendor-element-plus',
    test: /node_modules[\\/](element-plus|@element-plus|@floating-ui|@popperjs|@vueuse|@ctrl|lodash-es|lodash-unified|dayjs|async-validator|memoize-one|normalize-wheel-es)[\\/]/,
  },
  { name: 'vendor-vue', test: /node_modules[\\/](vue|@vue|vue-router|pinia|vue-i18n|@intlify)[\\/]/ },
]

export default defineConfig({
  base: '/',
  plugins: [vue()],
  define: {
    // vue-i18n: use the runtime-only build with the JIT message compiler (CSP friendly).
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      // SHOUHOU_API overrides the server the dev proxy talks to.
      '/api': { target: process.env.SHOUHOU_API || 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: {
        codeSplitting: { groups: chunkGroups },
      },
    },
  },
})
