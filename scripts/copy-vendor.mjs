// Copies the pinned front-end packages into static/vendor/, which the app serves.
// Nothing third-party is committed: package-lock.json pins them, `npm ci` installs them.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "static", "vendor");
mkdirSync(target, { recursive: true });
const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "@picocss/pico/css/pico.min.css": "pico.min.css",
};
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", from), join(target, to));
}
console.log(`copied ${Object.keys(files).length} files into static/vendor/`);
