"""The edge's SCTP tuning (remote/pacing.py) on real aiortc peers: installed on a real
association, a large message arrives whole and in order through the pacer; the pace follows the
window and the RTT; a loss costs 30% of the window, not half; a lost tail is sent again without
waiting for aiortc's T3 timer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiortc import RTCPeerConnection
from aiortc.rtcsctptransport import (
    SCTP_TSN_MODULO,
    USERDATA_MAX_LENGTH,
    DataChunk,
    parse_packet,
)

from peerwatch_edge.remote import pacing
from tests.support import wait_for_async


@dataclass
class Paced:
    """A real association between two aiortc peers, the edge's side paced."""

    app: RTCPeerConnection
    edge: RTCPeerConnection
    remote: Any
    """The edge's end of the app's DataChannel."""
    received: asyncio.Queue[bytes]
    """What the app's end received."""
    pacer: pacing.Pacer


@asynccontextmanager
async def paced_pair() -> AsyncIterator[Paced]:
    """An app and an edge peer on loopback, `pacing.install`ed on the edge as the edge does."""
    app, edge = RTCPeerConnection(), RTCPeerConnection()
    try:
        channel = app.createDataChannel("rpc")
        received: asyncio.Queue[bytes] = asyncio.Queue()
        opened: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        edge.on("datachannel", opened.set_result)
        channel.on("message", received.put_nowait)
        await app.setLocalDescription(await app.createOffer())
        await edge.setRemoteDescription(app.localDescription)
        pacer = pacing.install(edge)
        assert pacer is not None
        assert edge.sctp._cwnd == pacing.INITIAL_WINDOW  # type: ignore[union-attr]
        await edge.setLocalDescription(await edge.createAnswer())
        await app.setRemoteDescription(edge.localDescription)
        remote = await asyncio.wait_for(opened, 30)
        yield Paced(app, edge, remote, received, pacer)
    finally:
        await app.close()
        await edge.close()


async def test_a_paced_association_delivers_everything_in_order() -> None:
    async with paced_pair() as paced:
        messages = [bytes([i]) * 16 * 1024 for i in range(128)]  # 2 MiB
        for message in messages:
            paced.remote.send(message)
        got = [await asyncio.wait_for(paced.received.get(), 30) for _ in messages]
        assert got == messages
        assert paced.pacer.sent > len(messages)  # every DATA packet went through the pacer


def test_the_pace_follows_window_and_minimum_rtt() -> None:
    sctp = SimpleNamespace(_cwnd=100_000, _ssthresh=1_000_000)
    pacer = pacing.Pacer(sctp, send=None)  # type: ignore[arg-type]
    assert pacer.rate() is None  # no RTT measured yet: nothing waits
    pacer.rtt_sample(0.1, now=0.0)
    assert pacer.rate() == pacing.SLOW_START_GAIN * 100_000 / 0.1
    pacer.rtt_sample(0.105, now=1.0)  # within 4 ms + 1/8: still the path's minimum
    assert pacer.min_rtt == 0.1
    sctp._ssthresh = 50_000
    assert pacer.rate() == pacing.STEADY_GAIN * 100_000 / 0.1
    pacer.rtt_sample(0.2, now=11.0)  # the minimum expires after 10 s
    assert pacer.min_rtt == 0.2


def test_a_queue_shows_in_the_round_trip() -> None:
    pacer = pacing.Pacer(SimpleNamespace(), send=None)  # type: ignore[arg-type]
    for rtt in (0.08, 0.085, 0.1, 0.1, 0.085, 0.1, 0.1):  # late, late, back: no queue
        pacer.rtt_sample(rtt, now=0.0)
    assert not pacer.queueing
    pacer.rtt_sample(0.1, now=0.0)  # a third late sample in a row
    assert pacer.queueing
    pacer.rtt_sample(0.08, now=0.0)
    assert not pacer.queueing


async def test_a_loss_costs_thirty_percent_of_the_window() -> None:
    async def halving_receive_sack(_chunk: object) -> None:  # what aiortc does on a loss
        sctp._ssthresh = sctp._cwnd = sctp._cwnd // 2
        sctp._fast_recovery_exit = 7

    sctp = SimpleNamespace(
        _cwnd=100 * USERDATA_MAX_LENGTH,
        _ssthresh=10**6,
        _fast_recovery_exit=None,
        _receive_sack_chunk=halving_receive_sack,
    )
    pacing._tune_window(sctp, pacing.Pacer(sctp, send=None))  # type: ignore[arg-type]
    await sctp._receive_sack_chunk(object())
    assert sctp._cwnd == sctp._ssthresh == 70 * USERDATA_MAX_LENGTH
    await sctp._receive_sack_chunk(object())  # still recovering: aiortc's own answer stands
    assert sctp._cwnd == 35 * USERDATA_MAX_LENGTH


async def test_after_slow_start_the_window_grows_by_a_share_of_itself() -> None:
    async def avoidance(_chunk: object) -> None:  # aiortc: one packet per window acknowledged
        sctp._cwnd += USERDATA_MAX_LENGTH

    sctp = SimpleNamespace(
        _cwnd=100 * USERDATA_MAX_LENGTH,
        _ssthresh=50 * USERDATA_MAX_LENGTH,
        _fast_recovery_exit=None,
        _receive_sack_chunk=avoidance,
    )
    pacer = pacing.Pacer(sctp, send=None)  # type: ignore[arg-type]
    pacing._tune_window(sctp, pacer)
    await sctp._receive_sack_chunk(object())
    assert sctp._cwnd == 108 * USERDATA_MAX_LENGTH  # a small window: 8 packets
    sctp._cwnd = 800 * USERDATA_MAX_LENGTH
    await sctp._receive_sack_chunk(object())
    assert sctp._cwnd == 850 * USERDATA_MAX_LENGTH  # a megabyte: 1/16 of it
    for rtt in (0.08, 0.1, 0.1, 0.1):  # a queue builds: aiortc's one packet only
        pacer.rtt_sample(rtt, now=0.0)
    await sctp._receive_sack_chunk(object())
    assert sctp._cwnd == 851 * USERDATA_MAX_LENGTH


async def warmed_up(paced: Paced) -> Any:
    """The edge's association once a first message is acknowledged (an RTT measured, nothing in
    flight)."""
    sctp = cast("Any", paced.edge.sctp)
    paced.remote.send(b"warm up")
    await asyncio.wait_for(paced.received.get(), 30)
    await wait_for_async(lambda: sctp._flight_size == 0, "the warm-up acknowledged")
    return sctp


async def sent_before_the_first_sack(message: bytes) -> tuple[int, bytes]:
    """Packets the paced edge sent of `message`, after a pause with a window of 400 packets,
    before the first SACK was read; and what the app received."""
    async with paced_pair() as paced:
        pacer, sctp = paced.pacer, await warmed_up(paced)

        sctp._cwnd = 400 * USERDATA_MAX_LENGTH  # a window grown on an earlier transfer
        first_sack: list[int] = []
        receive_sack = sctp._receive_sack_chunk

        async def counting(chunk: Any) -> None:
            if not first_sack:
                first_sack.append(pacer.sent)
            await receive_sack(chunk)

        sctp._receive_sack_chunk = counting
        before = pacer.sent
        paced.remote.send(message)
        got = await asyncio.wait_for(paced.received.get(), 30)
        assert len(pacer) == 0
        return first_sack[0] - before, got


async def test_a_response_after_a_pause_uses_the_whole_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aiortc alone sends 4 packets beyond those in flight per SACK, so every response after a
    pause started like a slow start; on a long path (the threshold lowered to this loopback's
    round trip) the window goes out before the first SACK is read, a backlog at a time."""
    monkeypatch.setattr(pacing, "FILL_MIN_RTT", 0.0)
    message = bytes(range(256)) * 1024  # 256 KiB: 226 packets
    sent, got = await sent_before_the_first_sack(message)
    assert got == message
    assert sent >= 200  # aiortc alone: 4


async def test_on_a_lan_aiortc_keeps_its_own_clock() -> None:
    """Below FILL_MIN_RTT the pace cannot spread a window (a LAN, loopback): aiortc's few
    packets per SACK keep a large window from overflowing the receiver's socket buffer."""
    message = bytes(range(256)) * 1024
    sent, got = await sent_before_the_first_sack(message)
    assert got == message
    assert sent < 20


async def test_a_lost_tail_is_sent_again_before_the_t3_timer() -> None:
    """The last 3 packets of a message are lost once: no later packet shows the loss in a SACK,
    so aiortc alone waits for its T3 timer (1 s at least) and shrinks the window to one packet;
    the probe sends them again after two round trips and PROBE_DELAY, with a 0.7x cut."""
    async with paced_pair() as paced:
        sctp, app_sctp = await warmed_up(paced), cast("Any", paced.app.sctp)
        message = bytes(range(256)) * 256  # 64 KiB: 55 packets
        last = sctp._local_tsn + -(-len(message) // USERDATA_MAX_LENGTH) - 1
        tail = {(last - k) % SCTP_TSN_MODULO for k in range(3)}
        dropped: list[int] = []
        handle_data = app_sctp._handle_data

        async def lossy(data: bytes) -> None:
            tsns = [c.tsn for c in parse_packet(data)[3] if isinstance(c, DataChunk)]
            if tsns and tsns[0] in tail:
                tail.remove(tsns[0])
                dropped.append(tsns[0])
                return
            await handle_data(data)

        app_sctp._handle_data = lossy
        timeouts: list[float] = []
        t3_expired = sctp._t3_expired

        def counted_t3() -> None:
            timeouts.append(sctp._cwnd)
            t3_expired()

        sctp._t3_expired = counted_t3
        window = sctp._cwnd
        paced.remote.send(message)
        assert await asyncio.wait_for(paced.received.get(), 30) == message
        assert len(dropped) == 3
        assert paced.pacer.probes == 1
        assert timeouts == []
        assert sctp._cwnd >= int(window * pacing.LOSS_FACTOR)
