// Live video: a receive-only RTCPeerConnection whose offer/answer go through the API route
// POST /api/v1/cameras/{id}/webrtc (over the authenticated channel or same-origin HTTP).

const GATHER_TIMEOUT_MS = 3000;

function iceGatheringDone(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === "complete") done();
    }
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/**
 * Start live video of a camera. `request(method, path, body)` is the transport's request.
 * Returns `{stream, pc, close()}`; the stream gets the track once it arrives.
 */
export async function openLiveVideo(request, cameraId, iceServers = []) {
  const pc = new RTCPeerConnection({ iceServers });
  const stream = new MediaStream();
  pc.addEventListener("track", (e) => stream.addTrack(e.track));
  pc.addTransceiver("video", { direction: "recvonly" });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringDone(pc);
    const path = `/api/v1/cameras/${encodeURIComponent(cameraId)}/webrtc`;
    const resp = await request("POST", path, { sdp: pc.localDescription.sdp, type: "offer" });
    const answer = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(answer.message || answer.error || `live video refused (HTTP ${resp.status})`);
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  } catch (err) {
    pc.close();
    throw err;
  }
  return { stream, pc, close: () => pc.close() };
}
