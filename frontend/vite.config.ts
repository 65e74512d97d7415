/// <reference types="vitest/config" />
import { defineConfig, type ProxyOptions } from 'vite';

const backend = 'http://127.0.0.1:8000';

/**
 * The dev server relays the API as if the page came from it: the API's Host allowlist and
 * its CSRF check (a same-origin `Origin` on unsafe methods with the session cookie) then
 * accept what the browser sends to the dev server.
 */
const relay: ProxyOptions = {
  target: backend,
  changeOrigin: true,
  headers: { origin: backend },
};

export default defineConfig({
  build: {
    outDir: 'dist',
    rolldownOptions: {
      // @xyflow/react starts with "use client", which means nothing in a client-only bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: {
    proxy: {
      '/api': relay,
      '/auth': relay,
      '/healthz': backend,
    },
  },
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
