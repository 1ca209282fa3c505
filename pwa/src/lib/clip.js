// Event clips (fragmented MP4). Where the page reaches the API over HTTP (ingress), the video
// element loads the clip URL itself (HTTP Range). Over the DataChannel the clip is fetched in
// ranged parts, several in flight to keep the pipe full, and fed in order to Media Source
// Extensions, so playback starts with the first part; without MSE (or for a codec it cannot
// play) the parts become a Blob URL once all arrived.

import { ApiError } from "./transport.js";

export const PART_BYTES = 256 * 1024;
// 8 parts, 2 MB asked for ahead: more than a round trip's worth (80 ms at ~12 MB/s) so the pipe
// stays full while a part's request travels; the first part is fetched alone (playback starts).
export const PARALLEL_PARTS = 8;

const CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl"]);

/** Boxes of `bytes[start, end)`: [{type, start (of the payload), end}]. */
function boxes(bytes, start, end) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = [];
  for (let at = start; at + 8 <= end; ) {
    let size = view.getUint32(at);
    let header = 8;
    if (size === 1 && at + 16 <= end) {
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header) break;
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    found.push({ type, start: at + header, end: Math.min(at + size, end) });
    at += size;
  }
  return found;
}

/** The RFC 6381 codec string ("avc1.64001f") from an MP4's avcC box, or null (not H.264, or
 * the init segment is not within `bytes`). Walks moov/trak/mdia/minf/stbl/stsd/avc1/avcC. */
export function avcCodec(bytes) {
  const search = (start, end) => {
    for (const box of boxes(bytes, start, end)) {
      if (CONTAINERS.has(box.type)) {
        const codec = search(box.start, box.end);
        if (codec) return codec;
      } else if (box.type === "stsd") {
        // full box (4) + entry count (4), then sample entries
        for (const entry of boxes(bytes, box.start + 8, box.end)) {
          if (entry.type !== "avc1" && entry.type !== "avc3") continue;
          // VisualSampleEntry: 78 bytes before its child boxes
          const avcC = boxes(bytes, entry.start + 78, entry.end).find((b) => b.type === "avcC");
          if (avcC && avcC.end - avcC.start >= 4) {
            const hex = [1, 2, 3].map((i) => bytes[avcC.start + i].toString(16).padStart(2, "0")).join("");
            return `${entry.type}.${hex}`;
          }
        }
      }
    }
    return null;
  };
  return search(0, bytes.length);
}

/** GET bytes [start, end] of `path`: {bytes, total, recording}. */
export async function fetchRange(transport, path, start, end, signal) {
  const resp = await transport.request("GET", path, null, { signal, headers: { range: `bytes=${start}-${end}` } });
  if (resp.status !== 206 && resp.status !== 200) throw new ApiError(resp.status, `HTTP ${resp.status} from ${path}`);
  const bytes = new Uint8Array(await resp.arrayBuffer());
  const total = Number(/\/(\d+)$/.exec(resp.headers.get("content-range") ?? "")?.[1] ?? bytes.length);
  return { bytes, total, recording: resp.headers.get("peerwatch-clip") === "recording" };
}

/** Run `tasks` (functions returning promises) with at most `parallel` running; yield their
 * results in order. */
export async function* inOrder(tasks, parallel) {
  const running = [];
  let next = 0;
  const startNext = () => {
    const promise = tasks[next++]();
    promise.catch(() => {}); // awaited below, in order
    running.push(promise);
  };
  while (next < tasks.length && running.length < parallel) startNext();
  while (running.length) {
    const value = await running.shift();
    if (next < tasks.length) startNext();
    yield value;
  }
}

function once(target, type) {
  return new Promise((resolve, reject) => {
    target.addEventListener(type, resolve, { once: true });
    target.addEventListener("error", () => reject(new Error(`${type} failed`)), { once: true });
  });
}

/** Play the clip at `path` in `video`; resolves once it is loading ("mse", "blob" or "url"). */
export async function playClip(video, transport, path, scope) {
  if (transport.mediaUrl) {
    video.src = transport.mediaUrl(path);
    return "url";
  }
  const signal = scope.signal;
  const first = await fetchRange(transport, path, 0, PART_BYTES - 1, signal);
  const tasks = [];
  for (let start = first.bytes.length; start < first.total; start += PART_BYTES) {
    const end = Math.min(start + PART_BYTES, first.total) - 1;
    tasks.push(() => fetchRange(transport, path, start, end, signal).then((part) => part.bytes));
  }
  const codec = avcCodec(first.bytes);
  const type = codec && `video/mp4; codecs="${codec}"`;
  if (!globalThis.MediaSource || !type || !MediaSource.isTypeSupported(type)) {
    const parts = [first.bytes];
    for await (const bytes of inOrder(tasks, PARALLEL_PARTS)) parts.push(bytes);
    if (scope.alive) video.src = scope.objectUrl(new Blob(parts, { type: "video/mp4" }));
    return "blob";
  }
  const source = new MediaSource();
  video.src = scope.objectUrl(source);
  await once(source, "sourceopen");
  const buffer = source.addSourceBuffer(type);
  const append = async (bytes) => {
    buffer.appendBuffer(bytes);
    await once(buffer, "updateend");
  };
  (async () => {
    await append(first.bytes);
    for await (const bytes of inOrder(tasks, PARALLEL_PARTS)) {
      if (!scope.alive) return;
      await append(bytes);
    }
    // A clip still recording may end inside a fragment: leave the stream open rather than
    // declare a cut fragment the end.
    if (!first.recording && source.readyState === "open") source.endOfStream();
  })().catch(() => {
    if (scope.alive && source.readyState === "open") source.endOfStream("network");
  });
  return "mse";
}
