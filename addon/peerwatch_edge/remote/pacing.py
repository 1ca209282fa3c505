"""Pace an association's SCTP packets to what the path takes (aiortc tuned from here, not forked).

aiortc sends as fast as its congestion window allows: each SACK releases a burst at once. Through
a real round trip that window is hundreds of KB, and the bursts arrive faster than a busy
browser drains its UDP socket (Chromium's is 128 KiB): datagrams are dropped, and every loss
halves the window, which then regrows by one packet per round trip (bench/bench_remote.py
counts the drops). Here, per peer connection:

- every packet the association sends goes through a FIFO drained at `gain x cwnd / min_rtt`
  (2x while the window grows in slow start, 1.25x after), so a window is spread over a round
  trip instead of arriving at once; on loopback (a round trip of a millisecond) that rate is far
  above what the CPU sends, so nothing waits. The smallest RTT sample of the last 10 s is used,
  not aiortc's smoothed RTT: aiortc times a chunk from when it left its queue, so its samples
  include the pacer's own queueing, which would slow the pace further and further;
- a queue building on the path shows in the round trip (samples above
  `min_rtt + max(4 ms, min_rtt / 8)`, three in a row, the delay Linux's HyStart watches);
- after slow start the window grows by 1/16 per round trip (at least 8 packets), not by one
  packet, unless a queue is building: at 80 ms aiortc's one packet regains 30 KB in two seconds
  after a loss, where the path takes a megabyte; growing by a share of the window (as Scalable
  TCP does) regains a 0.7x cut in six round trips whatever the window. (Ending slow start there,
  as HyStart does, halved the throughput.)
- the first window is 10 packets (RFC 6928) instead of aiortc's 3;
- a loss reduces the window to 0.7x (CUBIC's β, RFC 9438) instead of halving it;
- the whole window is used at once: aiortc sends at most 4 packets beyond those in flight each
  time it is woken (a SACK or a new message), so after any pause (between two requests) the
  flight grew again from a few packets, like a slow start, however large the window: a 333 KB
  snapshot took 6 round trips at 80 ms. The pacer now takes packets from aiortc as it sends them,
  keeping at most `BACKLOG` queued (aiortc takes a packet the pacer holds as sent: a long queue
  there made it retransmit packets still waiting, over and over);
- a lost tail (the last packets of a response) is sent again two round trips and 200 ms after
  the last SACK, with a 0.7x cut: no later packet shows that loss, and aiortc waited for its T3
  timer (1 s at least) and then shrank the window to one packet.

Only aiortc's private attributes (`_cwnd`, `_ssthresh`, `_flight_size`, the outbound, sent and
data channel queues, `_transmit`, `_data_channel_flush`, `_receive_sack_chunk`, `_update_rto`,
the fast recovery and abandonment helpers) and the DTLS transport's `_send_data` are used;
`install` logs and leaves the association as it is when they are missing (another aiortc
version).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiortc import RTCPeerConnection
from aiortc.rtcsctptransport import USERDATA_MAX_LENGTH, RTCSctpTransport

_LOGGER = logging.getLogger(__name__)

INITIAL_WINDOW: Final = 10 * USERDATA_MAX_LENGTH
LOSS_FACTOR: Final = 0.7
SLOW_START_GAIN: Final = 2.0
STEADY_GAIN: Final = 1.25
BACKLOG: Final = 32
"""Packets queued in the pacer at most: the rest of the window waits in aiortc, whose loss
detection takes a packet as sent when the pacer has it (a long queue there made it retransmit
packets not yet sent, over and over)."""
FILL_MIN_RTT: Final = 0.01
"""The whole window is used at once only on paths with at least this round trip: on a LAN (or
loopback) the pace is far above what the receiver drains, and aiortc's few packets per SACK
are the only thing keeping a large window from overflowing its socket buffer."""
MAX_BURST_SECONDS: Final = 0.002
"""After an idle moment at most this much sending time goes out at once."""
MIN_RTT_SECONDS: Final = 10.0
"""How long an RTT sample counts as the path's minimum."""
DELAY_SAMPLES: Final = 3
AVOIDANCE_PACKETS: Final = 8
AVOIDANCE_SHARE: Final = 1 / 16
"""After slow start the window grows by this share of itself per round trip, or by
AVOIDANCE_PACKETS if more, while no queue builds."""
PROBE_DELAY: Final = 0.2
"""How long a browser's SCTP may hold a SACK back (delayed acknowledgement): a tail is taken as
lost after two round trips and this without one."""
_REQUIRED: Final = (
    "_cwnd",
    "_srtt",
    "_flight_size",
    "_outbound_queue",
    "_data_channel_queue",
    "_data_channel_flush",
    "_fast_recovery_exit",
    "_association_state",
    "_receive_sack_chunk",
    "_sent_queue",
    "_flight_size_decrease",
    "_maybe_abandon",
    "_update_advanced_peer_ack_point",
    "_transmit",
    "_update_rto",
)
"""What `install` needs (`_ssthresh` is set only once the association is up)."""

type Send = Callable[[bytes], Awaitable[None]]


class Pacer:
    """A FIFO of one association's outgoing packets, sent at the pace its window and RTT give."""

    def __init__(self, sctp: RTCSctpTransport, send: Send) -> None:
        self._sctp = sctp
        self._send = send
        self._queue: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next = 0.0
        self.refill: Callable[[], Awaitable[None]] | None = None
        """Called when the queue runs short, to take more of the window from aiortc."""
        self.sent = 0
        self.probes = 0
        """Lost tails retransmitted (`_probe_tail`)."""
        self.min_rtt: float | None = None
        self._min_rtt_at = 0.0
        self._late = 0

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def queueing(self) -> bool:
        """The last RTT samples say a queue is building on the path."""
        return self._late >= DELAY_SAMPLES

    async def put(self, data: bytes) -> None:
        """Queue one packet (returns at once: the receive path never waits for the pace)."""
        self._queue.append(data)
        self._wake.set()
        if self._task is None:  # lives until `close`: an idle exit could strand a packet
            self._task = asyncio.create_task(self._run(), name="sctp-pacer")

    def rate(self) -> float | None:
        """Bytes per second the window allows now; None before the first RTT measurement."""
        sctp: Any = self._sctp
        if not self.min_rtt:
            return None
        gain = SLOW_START_GAIN if sctp._cwnd <= sctp._ssthresh else STEADY_GAIN
        return float(gain * sctp._cwnd / self.min_rtt)

    def rtt_sample(self, rtt: float, now: float) -> None:
        """Take one of aiortc's RTT samples: the path's minimum, and whether a queue builds."""
        if self.min_rtt is None or rtt <= self.min_rtt or now - self._min_rtt_at > MIN_RTT_SECONDS:
            self.min_rtt, self._min_rtt_at = rtt, now
        self._late = self._late + 1 if rtt > self.min_rtt + max(0.004, self.min_rtt / 8) else 0

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            now = loop.time()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = loop.time()
            data = self._queue.popleft()
            try:
                await self._send(data)
            except Exception as err:  # SCTP retransmits what is lost, as on a lossy path
                _LOGGER.debug("pacer: a packet was not sent: %r", err)
                continue
            self.sent += 1
            if self.refill is not None and len(self._queue) < BACKLOG // 2:
                await self.refill()
            rate = self.rate()
            start = max(self._next, now - MAX_BURST_SECONDS)
            self._next = start + len(data) / rate if rate else now

    def close(self) -> None:
        """Stop sending (the connection closed)."""
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()


def _after_loss(window: int) -> int:
    """The window after a loss: LOSS_FACTOR of it, at least 4 packets."""
    return max(int(window * LOSS_FACTOR), 4 * USERDATA_MAX_LENGTH)


def _tune_window(sctp: Any, pacer: Pacer) -> None:  # noqa: ANN401
    """Make `sctp` cut its window to 0.7x on a loss (aiortc halves it), and grow it by a share
    of itself per round trip after slow start (aiortc: one packet) while `pacer` sees no queue
    building."""
    receive_sack = sctp._receive_sack_chunk

    async def receive_sack_chunk(chunk: Any) -> None:  # noqa: ANN401
        before = sctp._cwnd
        recovering = sctp._fast_recovery_exit is not None
        await receive_sack(chunk)
        if not recovering and sctp._fast_recovery_exit is not None:
            sctp._cwnd = sctp._ssthresh = _after_loss(before)
        elif sctp._cwnd > before and sctp._cwnd > sctp._ssthresh and not pacer.queueing:
            # aiortc added one packet: a window was acknowledged, about one round trip
            growth = max(AVOIDANCE_PACKETS * USERDATA_MAX_LENGTH, int(before * AVOIDANCE_SHARE))
            sctp._cwnd = before + growth

    sctp._receive_sack_chunk = receive_sack_chunk


def _fill_window(sctp: Any, pacer: Pacer) -> None:  # noqa: ANN401
    """Let `sctp` send its whole window, a pacer's backlog at a time, on paths of FILL_MIN_RTT
    or more: aiortc sends at most 4 packets beyond those in flight per call (once per SACK or
    message), so after a pause every response started again like a slow start, whatever the
    window."""
    transmit = sctp._transmit

    def can_send() -> bool:
        long_path = pacer.min_rtt is not None and pacer.min_rtt >= FILL_MIN_RTT
        return long_path and sctp._flight_size < sctp._cwnd and len(pacer) < BACKLOG

    async def fill() -> None:
        await transmit()
        while sctp._outbound_queue and can_send():
            before = (sctp._flight_size, len(sctp._outbound_queue))
            await transmit()
            if (sctp._flight_size, len(sctp._outbound_queue)) == before:
                return

    async def refill() -> None:
        if not can_send():
            return
        if sctp._outbound_queue:
            await fill()
        elif sctp._data_channel_queue:
            await sctp._data_channel_flush()  # the next messages, each sent with `fill`

    sctp._transmit = fill
    pacer.refill = refill


def _probe_tail(sctp: Any, pacer: Pacer) -> None:  # noqa: ANN401
    """Retransmit a lost tail (the last packets of a response) two round trips and PROBE_DELAY
    after the last SACK, with a 0.7x cut, as RACK-TLP does for TCP (RFC 8985): no later packet
    reaches the peer to show that loss in a SACK, so aiortc waits for its T3 timer, 1 s at least,
    and then shrinks the window to one packet."""
    receive_sack = sctp._receive_sack_chunk
    timer: asyncio.TimerHandle | None = None
    last_sack: float | None = None
    """When the last SACK left data outstanding (None: it acknowledged everything)."""
    tasks: set[asyncio.Task[None]] = set()

    def due() -> None:
        """Probe once the last SACK is two round trips and PROBE_DELAY old, else wait until then
        (one timer, moved only when it fires: not rescheduled on every SACK)."""
        nonlocal timer
        timer = None
        if last_sack is None or sctp._srtt is None:
            return
        loop = asyncio.get_running_loop()
        at = last_sack + 2 * sctp._srtt + PROBE_DELAY
        if loop.time() < at:
            timer = loop.call_at(at, due)
        else:
            lost_tail()

    def lost_tail() -> None:
        established = sctp._association_state == sctp.State.ESTABLISHED
        if not established or len(pacer) or sctp._outbound_queue or sctp._data_channel_queue:
            return  # still sending: the SACKs of what follows will show a loss
        unacked = [chunk for chunk in sctp._sent_queue if not chunk._acked]
        if not unacked:
            return
        for chunk in unacked:
            if not sctp._maybe_abandon(chunk):
                chunk._retransmit = True
            sctp._flight_size_decrease(chunk)
        sctp._update_advanced_peer_ack_point()
        if sctp._fast_recovery_exit is None:  # one cut per loss, as in fast recovery
            sctp._cwnd = sctp._ssthresh = _after_loss(sctp._cwnd)
            sctp._fast_recovery_exit = sctp._sent_queue[-1].tsn
            sctp._fast_recovery_transmit = True
        pacer.probes += 1
        task = asyncio.create_task(sctp._transmit())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def receive_sack_chunk(chunk: Any) -> None:  # noqa: ANN401
        nonlocal timer, last_sack
        await receive_sack(chunk)
        if not sctp._sent_queue:
            last_sack = None
            return
        last_sack = asyncio.get_running_loop().time()
        if timer is None:
            due()

    sctp._receive_sack_chunk = receive_sack_chunk


def install(pc: RTCPeerConnection) -> Pacer | None:
    """Tune pc's SCTP association (call after `setRemoteDescription`); the pacer, or None when
    this aiortc lacks what is tuned or `PEERWATCH_SCTP_PACING=0` (aiortc as it is, to compare)."""
    if os.environ.get("PEERWATCH_SCTP_PACING") == "0":
        return None
    sctp: Any = pc.sctp
    dtls = sctp.transport if sctp is not None else None
    if dtls is None or not all(hasattr(sctp, name) for name in _REQUIRED):
        _LOGGER.warning("SCTP pacing not installed: aiortc internals changed")
        return None
    pacer = Pacer(sctp, dtls._send_data)
    dtls._send_data = pacer.put
    sctp._cwnd = max(sctp._cwnd, INITIAL_WINDOW)
    _tune_window(sctp, pacer)
    _fill_window(sctp, pacer)
    _probe_tail(sctp, pacer)
    update_rto = sctp._update_rto

    def sample(rtt: float) -> None:
        pacer.rtt_sample(rtt, time.monotonic())
        update_rto(rtt)

    sctp._update_rto = sample

    @pc.on("connectionstatechange")
    def on_state() -> None:
        if pc.connectionState in ("failed", "closed"):
            pacer.close()

    return pacer
