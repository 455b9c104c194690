import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The app server of the running dev server; Vite (dev and preview) proxies /api to it, as the
// README tells apps to: the session cookie then belongs to the page's own origin.
const app = process.env.RESPOKE_TEST_APP ?? "http://127.0.0.1:8180";
const port = Number(process.env.CONSUMER_PORT ?? 8181);
const proxy = { "/api": { target: app, changeOrigin: false } };

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  logLevel: "warn",
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  server: { host: "127.0.0.1", port, strictPort: true, proxy },
  preview: { host: "127.0.0.1", port, strictPort: true, proxy },
});
