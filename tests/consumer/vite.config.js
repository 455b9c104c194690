import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import wasm from "vite-plugin-wasm";

// The app server of the running dev server; `vite preview` proxies /api to it, as an app's own
// server would sit behind the same origin.
const app = process.env.RESPOKE_TEST_APP ?? "http://127.0.0.1:8180";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  logLevel: "warn",
  plugins: [wasm()],
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  preview: {
    host: "127.0.0.1",
    port: Number(process.env.CONSUMER_PORT ?? 8181),
    strictPort: true,
    proxy: { "/api": { target: app, changeOrigin: false } },
  },
});
