// webpack 5, as an app configures it: one entry; the wasm that the package loads with
// `new URL("respoke_client_bg.wasm", import.meta.url)` becomes an asset of the build.
import { fileURLToPath } from "node:url";

export default {
  mode: "production",
  context: fileURLToPath(new URL(".", import.meta.url)),
  entry: "./src/main.js",
  output: {
    path: fileURLToPath(new URL("./dist-webpack/", import.meta.url)),
    filename: "main.js",
    clean: true,
  },
  performance: { hints: false },
};
