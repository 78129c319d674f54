/**
 * The load generator's UDP client: geckos.io's signalling over HTTP and node-datachannel's native
 * peer connection, without the browser-API polyfill and the geckos client on top of it. In the
 * generator those layers cost more than the WebRTC stack itself (a DOM-style MessageEvent, an
 * event-target dispatch and geckos' message parsing per frame, about a third of the generator's
 * JavaScript at 500 UDP bots). Frames go straight to and from the native data channel, as on the
 * server. Never used by players: browsers and GameClient's defaults use geckos' own client.
 *
 * Signalling (geckos.io 3.1.0's routes under /.wrtc/v2): POST /connections answers the server's
 * offer; the answer goes to /connections/:id/remote-description; the server's later ICE candidates
 * are polled from /connections/:id/additional-candidates; /connections/:id/close ends it.
 */
import { PeerConnection, type DataChannel } from 'node-datachannel';
import { ConnectError, type ServerLink } from '../link.ts';

/** When to poll the server's additional candidates, ms after the offer (geckos' client does the same). */
const CANDIDATE_POLLS = [50, 100, 200, 400, 800, 1600, 3200];

/** Opens a data channel to the game server at `serverUrl`; rejects with ConnectError after `timeoutMs`. */
export function connectRawUdp(serverUrl: string, timeoutMs: number): Promise<ServerLink> {
  const base = `${new URL(serverUrl).origin}/.wrtc/v2/connections`;
  return new Promise((resolve, reject) => {
    let settled = false;
    let pc: PeerConnection | undefined;
    let id: string | undefined;
    const timers: NodeJS.Timeout[] = [];
    const closeRemote = (): void => {
      if (id) void fetch(`${base}/${id}/close`, { method: 'POST' }).then((r) => r.body?.cancel(), () => {});
    };
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      try {
        pc?.close();
      } catch {
        /* already closed */
      }
      closeRemote();
      reject(new ConnectError('udp', `WebRTC channel to ${serverUrl}: ${why}`));
    };
    timers.push(setTimeout(() => fail(`did not open within ${timeoutMs} ms`), timeoutMs));

    void (async () => {
      let offer: { id: string; localDescription: { sdp: string; type: string } };
      try {
        const res = await fetch(base, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) {
          await res.body?.cancel();
          return fail(`signalling answered HTTP ${res.status}`);
        }
        offer = (await res.json()) as typeof offer;
      } catch (error) {
        return fail(`signalling failed: ${(error as Error).message}`);
      }
      if (settled) {
        id = offer.id;
        return closeRemote();
      }
      id = offer.id;
      const peer = new PeerConnection(`bot-${id}`, { iceServers: [] });
      pc = peer;
      peer.onDataChannel((dc) => {
        if (settled) {
          try {
            peer.close();
          } catch {
            /* closing */
          }
          return;
        }
        const open = (): void => {
          if (settled) return;
          settled = true;
          for (const t of timers) clearTimeout(t);
          resolve(channelLink(peer, dc, closeRemote));
        };
        if (dc.isOpen()) open();
        else dc.onOpen(open);
      });
      // The answer goes out once this side's candidates are gathered (host candidates only: a few
      // ms), so the server can reach us at once instead of waiting to discover our address.
      let answered = false;
      const answer = (): void => {
        const local = peer.localDescription();
        if (answered || settled || !local) return;
        answered = true;
        void fetch(`${base}/${id}/remote-description`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ sdp: local.sdp, type: local.type }),
        }).then(
          (r) => r.body?.cancel(),
          (error: unknown) => fail(`sending the answer failed: ${(error as Error).message}`),
        );
      };
      peer.onGatheringStateChange((state) => {
        if (state === 'complete') answer();
      });
      peer.onLocalDescription(() => {
        timers.push(setTimeout(answer, 250)); // gathering slower than this: answer with what we have
      });
      for (const ms of CANDIDATE_POLLS) {
        timers.push(
          setTimeout(() => {
            if (settled) return;
            fetch(`${base}/${id}/additional-candidates`)
              .then((r) => (r.ok ? (r.json() as Promise<Array<{ candidate: string; sdpMid?: string }>>) : []))
              .then((cands) => {
                if (settled) return;
                for (const c of cands) peer.addRemoteCandidate(c.candidate.replace(/^a=/, ''), c.sdpMid ?? '0');
              })
              .catch(() => {});
          }, ms),
        );
      }
      try {
        peer.setRemoteDescription(offer.localDescription.sdp, offer.localDescription.type as 'offer');
      } catch (error) {
        fail(`bad offer: ${(error as Error).message}`);
      }
    })();
  });
}

/** The open channel as a ServerLink: frames in and out of the native data channel, no copies. */
function channelLink(pc: PeerConnection, dc: DataChannel, closeRemote: () => void): ServerLink {
  let closed = false;
  const link: ServerLink = {
    kind: 'udp',
    send(frame) {
      if (closed) return;
      try {
        dc.sendMessageBinary(frame);
      } catch {
        /* closing underneath us: onClosed reports it */
      }
    },
    close() {
      if (closed) return;
      closed = true;
      closeRemote();
      try {
        pc.close();
      } catch {
        /* already closed */
      }
      link.onClose('udp closed');
    },
    onFrame: () => {},
    onClose: () => {},
  };
  dc.onMessage((msg) => {
    if (typeof msg === 'string') return; // text is not part of the protocol
    link.onFrame(msg instanceof ArrayBuffer ? new Uint8Array(msg) : msg);
  });
  const gone = (): void => {
    if (closed) return;
    closed = true;
    try {
      pc.close();
    } catch {
      /* already closed */
    }
    link.onClose('udp disconnected');
  };
  dc.onClosed(gone);
  pc.onStateChange((state) => {
    if (state === 'disconnected' || state === 'failed' || state === 'closed') gone();
  });
  return link;
}
