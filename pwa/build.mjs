// Build the PWA into dist/: bundle (esbuild), stylesheet, service worker with a versioned cache,
// manifest and icons. `npm run build`; `node build.mjs --out DIR --no-sourcemap` for the add-on
// image's copy (`make addon-pwa`).

import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import { iconPng, iconSvg } from "./icon.mjs";

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, "src");
const { values: args } = parseArgs({
  options: { out: { type: "string" }, "no-sourcemap": { type: "boolean", default: false } },
});
const dist = args.out ? resolve(args.out) : join(root, "dist");

async function listFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name)).sort();
}

/** A short content hash of everything that goes into the build. */
async function version() {
  const hash = createHash("sha256");
  for (const file of [...(await listFiles(src)), join(root, "icon.mjs"), join(root, "package-lock.json")]) {
    hash.update(file.slice(root.length));
    hash.update(await readFile(file));
  }
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  return `${pkg.version}-${hash.digest("hex").slice(0, 10)}`;
}

const MANIFEST = {
  name: "Peerwatch",
  short_name: "Peerwatch",
  description: "Your home cameras, end-to-end encrypted, peer to peer.",
  id: "./",
  start_url: "./",
  scope: "./",
  display: "standalone",
  background_color: "#0f141a",
  theme_color: "#0f141a",
  icons: [
    { src: "icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" },
    { src: "icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
    { src: "icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
    { src: "icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
  ],
};

async function build() {
  const v = await version();
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(src, "main.js") },
    bundle: true,
    format: "esm",
    minify: true,
    sourcemap: !args["no-sourcemap"],
    target: ["chrome109", "safari16", "firefox115"],
    define: { "globalThis.PEERWATCH_VERSION": JSON.stringify(v) },
    outdir: dist,
    logLevel: "warning",
  });
  await esbuild.build({ entryPoints: [join(src, "app.css")], minify: true, outdir: dist, logLevel: "warning" });
  const sw = (await readFile(join(src, "sw.js"), "utf8")).replace("__VERSION__", v);
  await writeFile(join(dist, "sw.js"), sw);
  await writeFile(join(dist, "index.html"), await readFile(join(src, "index.html")));
  await writeFile(join(dist, "manifest.webmanifest"), `${JSON.stringify(MANIFEST, null, 2)}\n`);
  await writeFile(join(dist, "icon.svg"), iconSvg());
  await writeFile(join(dist, "icon-192.png"), iconPng(192));
  await writeFile(join(dist, "icon-512.png"), iconPng(512));
  await writeFile(join(dist, "icon-maskable-512.png"), iconPng(512, true));
  console.log(`built ${dist} (version ${v})`);
}

await build();
