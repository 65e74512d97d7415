/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

const backend = 'http://127.0.0.1:8000';

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
      '/api': backend,
      '/healthz': backend,
    },
  },
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
