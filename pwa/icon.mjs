// The app icon, drawn once from simple shapes: as SVG, and rasterised to PNG (no image library:
// 4×4 supersampling and a minimal PNG encoder over node:zlib).

import { deflateSync } from "node:zlib";

const TOP = [0x14, 0xa8, 0x9e];
const BOTTOM = [0x0a, 0x55, 0x57];
const LENS = [0x0a, 0x55, 0x57];
const WHITE = [0xff, 0xff, 0xff];
const REC = [0xff, 0x5a, 0x4f];

// Foreground in unit coordinates: a camera lens with a glint and a "recording" dot.
const FOREGROUND = [
  { cx: 0.5, cy: 0.53, r: 0.28, fill: WHITE },
  { cx: 0.5, cy: 0.53, r: 0.155, fill: LENS },
  { cx: 0.555, cy: 0.475, r: 0.05, fill: WHITE },
  { cx: 0.75, cy: 0.27, r: 0.065, fill: REC },
];

/** Shapes of the icon; `maskable` is full-bleed with the foreground inside the safe zone. */
function shapes(maskable) {
  const k = maskable ? 0.8 : 1;
  const circles = FOREGROUND.map((c) => ({ ...c, cx: 0.5 + (c.cx - 0.5) * k, cy: 0.5 + (c.cy - 0.5) * k, r: c.r * k }));
  return { corner: maskable ? 0 : 0.22, circles };
}

const hex = (rgb) => `#${rgb.map((v) => v.toString(16).padStart(2, "0")).join("")}`;

export function iconSvg(maskable = false) {
  const { corner, circles } = shapes(maskable);
  const body = circles.map((c) => `<circle cx="${c.cx * 512}" cy="${c.cy * 512}" r="${c.r * 512}" fill="${hex(c.fill)}"/>`).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${hex(TOP)}"/><stop offset="1" stop-color="${hex(BOTTOM)}"/></linearGradient></defs><rect width="512" height="512" rx="${corner * 512}" fill="url(#g)"/>${body}</svg>\n`;
}

function insideRoundedRect(x, y, corner) {
  if (corner === 0) return true;
  const dx = Math.max(corner - x, x - (1 - corner), 0);
  const dy = Math.max(corner - y, y - (1 - corner), 0);
  return dx * dx + dy * dy <= corner * corner;
}

function sample(x, y, { corner, circles }) {
  if (!insideRoundedRect(x, y, corner)) return null;
  let color = TOP.map((t, i) => t + (BOTTOM[i] - t) * y);
  for (const c of circles) if ((x - c.cx) ** 2 + (y - c.cy) ** 2 <= c.r * c.r) color = c.fill;
  return color;
}

/** RGBA pixels of the icon at `size`×`size`. */
function raster(size, maskable) {
  const geo = shapes(maskable);
  const px = new Uint8Array(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let qx = 0; qx < size; qx++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = sample((qx + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, geo);
          if (!c) continue;
          r += c[0]; g += c[1]; b += c[2]; a += 1;
        }
      }
      const o = (py * size + qx) * 4;
      if (a) {
        px[o] = Math.round(r / a);
        px[o + 1] = Math.round(g / a);
        px[o + 2] = Math.round(b / a);
      }
      px[o + 3] = Math.round((a / (n * n)) * 255);
    }
  }
  return px;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "ascii");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function iconPng(size, maskable = false) {
  const px = raster(size, maskable);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    rows[y * (size * 4 + 1)] = 0;
    Buffer.from(px.buffer, y * size * 4, size * 4).copy(rows, y * (size * 4 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
