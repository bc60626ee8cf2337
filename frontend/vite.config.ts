/// <reference types="vitest/config" />
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig, loadEnv } from 'vite';

/** Paths the Python API answers; everything else is the Svelte app. */
const API_PATHS = ['/upload', '/jobs', '/config', '/health', '/ready', '/monitor', '/schema', '/metrics'];

export default defineConfig(({ mode }) => {
  // with no prefix filter, loadEnv returns .env files overlaid with the process environment
  const env = loadEnv(mode, '.', '');
  const target = env.VITE_API_URL || `http://localhost:${env.DOCPARSE_PORT || '8080'}`;
  const proxy = Object.fromEntries(API_PATHS.map((path) => [path, { target, changeOrigin: true }]));

  return {
    base: '/',
    plugins: [svelte(), svelteTesting()],
    server: { proxy },
    preview: { proxy },
    build: { outDir: 'dist', emptyOutDir: true },
    test: {
      environment: 'jsdom',
      include: ['src/**/*.test.ts'],
      setupFiles: ['src/test/setup.ts'],
      restoreMocks: true,
    },
  };
});
