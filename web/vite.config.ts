import { defineConfig } from 'vite';

// The built UI is embedded into the atrium binary (scripts/embed-assets.sh) and served under a strict
// CSP (script-src 'self'; style-src 'self'): everything must land in external hashed files under
// dist/assets/, with no inline scripts or styles.
export default defineConfig({
  base: '/',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    cssCodeSplit: false,
    // Never inline assets as data: URLs into JS; keep every asset a file of its own.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    // `npm run dev` proxies the API to a running `atrium serve` (ATRIUM_API overrides the address).
    proxy: { '/api': process.env.ATRIUM_API ?? 'http://127.0.0.1:8080' },
  },
});
