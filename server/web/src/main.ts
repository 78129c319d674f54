/**
 * The demo page: signs in as a guest, connects with GameClient (UDP first, then TCP, each with a
 * connect timeout and retries), and lets the player walk, attack and chat. The HUD shows the
 * transport in use and the measured round trip.
 *
 * `window.mmo` exposes the page's state (read-only by convention) so people and browser tests can
 * see what the page sees. `?transport=ws|udp|auto` picks the transport (default auto).
 */
import { GameClient, GameClientError, GameClientTransfer } from '../../../client/game-client.ts';
import type { TransportName } from '../../../contract/ports.ts';
import type { PlayerChatChannel } from '../../../protocol/codec.ts';
import { GameModel } from './game.ts';
import { draw } from './render.ts';

type PageState = 'starting' | 'signing-in' | 'connecting' | 'playing' | 'reconnecting' | 'closed' | 'error';

/** What the page exposes on `window.mmo`. */
export interface PageStatus {
  state: PageState;
  transport: TransportName | undefined;
  /** Smoothed move→ack / ping→pong round trip, ms; 0 until measured. */
  rttMs: number;
  playerId: number;
  zone: number;
  x: number;
  y: number;
  acks: number;
  snapshots: number;
  /** The server's send profile and snapshots a second, from the welcome. */
  sendProfile: string | undefined;
  patchRate: number;
  visible: number;
  /** Where the other entities in view are drawn this frame (gliding between snapshots). */
  others: Array<{ id: number; x: number; y: number }>;
  chats: number;
  lastError: string | undefined;
  /** Every transport attempt's failure, for diagnosing a fallback. */
  connectLog: string[];
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: #${id} is missing from index.html`);
  return el as T;
};

const canvas = $<HTMLCanvasElement>('world');
const ctx = canvas.getContext('2d')!;
const hud = {
  status: $('status'),
  transport: $('transport'),
  rtt: $('rtt'),
  zone: $('zone'),
  visible: $('visible'),
  hp: $('hp'),
};
const chatLog = $<HTMLOListElement>('chat-log');
const chatForm = $<HTMLFormElement>('chat-form');
const chatInput = $<HTMLInputElement>('chat-input');
const chatChannel = $<HTMLSelectElement>('chat-channel');

const params = new URLSearchParams(location.search);
const preference = (params.get('transport') ?? 'auto') as TransportName | 'auto';
const MOVE_INTERVAL_MS = 100;
const PING_INTERVAL_MS = 2000;

const model = new GameModel();
const status: PageStatus = {
  state: 'starting',
  transport: undefined,
  rttMs: 0,
  playerId: 0,
  zone: 0,
  x: 0,
  y: 0,
  acks: 0,
  snapshots: 0,
  sendProfile: undefined,
  patchRate: 0,
  visible: 0,
  others: [],
  chats: 0,
  lastError: undefined,
  connectLog: [],
};
(window as unknown as { mmo: PageStatus }).mmo = status;

let client: GameClient | undefined;
let token: string | undefined;
/** The process serving this player; a zone transfer points it at another one. */
let serverUrl = location.origin;
/** Positions we sent, by sequence number (low bits), to compare with acks. */
const sent = new Float64Array(64 * 2);
const keys = new Set<string>();

function setState(s: PageState, text: string): void {
  status.state = s;
  document.body.dataset.state = s;
  hud.status.textContent = text;
}

function system(text: string): void {
  const li = document.createElement('li');
  li.className = 'system';
  li.textContent = text;
  appendChat(li);
}

function appendChat(li: HTMLLIElement): void {
  const atBottom = chatLog.scrollTop + chatLog.clientHeight >= chatLog.scrollHeight - 4;
  chatLog.append(li);
  while (chatLog.children.length > 200) chatLog.firstElementChild?.remove();
  if (atBottom) chatLog.scrollTop = chatLog.scrollHeight;
}

async function guestToken(): Promise<string> {
  const res = await fetch('/auth/guest', { method: 'POST' });
  if (!res.ok) throw new Error(`guest sign-in failed: HTTP ${res.status}`);
  const body = (await res.json()) as { token?: unknown };
  if (typeof body.token !== 'string') throw new Error('guest sign-in: no token in the answer');
  return body.token;
}

async function connect(): Promise<void> {
  try {
    if (!token) {
      setState('signing-in', 'signing in as guest…');
      token = await guestToken();
    }
    setState('connecting', preference === 'ws' ? 'connecting over TCP…' : 'connecting (UDP first)…');
    const c = await GameClient.connect({
      url: serverUrl,
      token,
      transport: preference,
      connectTimeoutMs: 4000,
      attempts: 2,
      onAttemptFailed: (kind, attempt, err) => {
        const line = `${kind === 'udp' ? 'UDP' : 'TCP'} attempt ${attempt} failed: ${err.message}`;
        status.connectLog.push(line);
        hud.status.textContent = `${line}; retrying…`;
      },
    });
    attach(c);
  } catch (err) {
    if (err instanceof GameClientTransfer) {
      system(`zone ${err.zone} is served at ${err.url}: moving there`);
      serverUrl = err.url;
      return connect();
    }
    const message = err instanceof Error ? err.message : String(err);
    status.lastError = message;
    setState('error', err instanceof GameClientError && err.code !== 'connect_failed' ? `refused: ${err.code}` : 'could not connect');
    system(`${message} — reload to try again`);
  }
}

function attach(c: GameClient): void {
  client = c;
  model.welcome(c.welcome);
  status.transport = c.kind;
  status.playerId = c.welcome.playerId;
  status.sendProfile = c.welcome.sendProfile;
  status.patchRate = c.welcome.patchRate;
  hud.transport.textContent = c.kind === 'udp' ? 'UDP (WebRTC)' : 'TCP (WebSocket)';
  hud.transport.dataset.kind = c.kind;
  // Whoever reads `window.mmo` sees the welcome's position together with the playing state, not
  // the previous one until the next animation frame (which a busy or hidden page may delay).
  syncStatus();
  setState('playing', `playing as ${c.welcome.name}`);
  system(`connected to ${c.welcome.serverId} over ${c.kind === 'udp' ? 'UDP' : 'TCP'} as ${c.welcome.name}`);
  // Focus without scrolling: on a window shorter than the page, focus() would scroll the world into
  // view and the status bar out of it.
  canvas.focus({ preventScroll: true });

  c.on('snapshot', (m) => model.snapshot(m, performance.now()));
  c.on('appear', (m) => {
    model.known.set(m.id, { name: m.name, maxHp: m.maxHp });
    const e = model.entities.get(m.id);
    if (e) {
      e.name = m.name;
      e.maxHp = m.maxHp;
    }
  });
  c.on('ack', (m) => {
    const i = (m.seq & 63) * 2;
    model.ack(m.x, m.y, sent[i]!, sent[i + 1]!);
  });
  c.on('joined', (m) => model.joined(m.zone, m.zoneSize, m.x, m.y));
  c.on('combat', (m) => model.combat(m, performance.now()));
  c.on('chat', (m) => {
    status.chats++;
    const li = document.createElement('li');
    li.className = m.channel;
    const from = document.createElement('span');
    from.className = 'from';
    from.textContent = `${m.channel === 'global' ? '[global] ' : m.channel === 'whisper' ? '[whisper] ' : m.channel === 'say' ? '[nearby] ' : ''}${m.fromName}: `;
    li.append(from, document.createTextNode(m.text));
    appendChat(li);
  });
  c.on('error', (m) => {
    status.lastError = `${m.name ?? m.code}: ${m.message}`;
    // Cooldowns and out-of-range attacks are part of play; show them quietly.
    if (m.name !== 'cooldown' && m.name !== 'invalid_target') system(`server: ${m.name ?? m.code} ${m.message}`);
  });
  c.on('transfer', (m) => {
    system(`entering zone ${m.zone}, served at ${m.url}`);
    setState('reconnecting', 'changing server…');
    serverUrl = m.url;
    c.close();
    void connect();
  });
  c.on('inventory', (m) => {
    if (m.items.length > 0) system(`inventory: ${m.items.map((i) => `${i.quantity} × ${i.item}`).join(', ')}`);
  });
  c.on('reconnect', (m) => {
    system(`server asks to reconnect (${m.reason}) in ${m.afterMs} ms`);
    setState('reconnecting', 'reconnecting…');
    setTimeout(() => {
      c.close();
      void connect();
    }, m.afterMs);
  });
  c.on('close', (reason) => {
    if (client !== c) return;
    client = undefined;
    status.transport = undefined;
    if (status.state === 'reconnecting') return;
    setState('closed', 'disconnected');
    system(`connection closed (${reason}) — reload to reconnect`);
  });
}

// ---------------------------------------------------------------------------------------------
// Input

const DIRS: Record<string, [number, number]> = {
  ArrowUp: [0, -1], KeyW: [0, -1],
  ArrowDown: [0, 1], KeyS: [0, 1],
  ArrowLeft: [-1, 0], KeyA: [-1, 0],
  ArrowRight: [1, 0], KeyD: [1, 0],
};

// The world keeps its keys while it has focus: arrows and Space would otherwise also scroll the page.
canvas.addEventListener('keydown', (ev) => {
  if (ev.code in DIRS) {
    keys.add(ev.code);
    ev.preventDefault();
  } else if (ev.code === 'Space') {
    attackNearest();
    ev.preventDefault();
  } else if (ev.code === 'Enter') {
    chatInput.focus();
    ev.preventDefault();
  }
});
canvas.addEventListener('keyup', (ev) => keys.delete(ev.code));
canvas.addEventListener('blur', () => keys.clear());

/** Canvas pixel → world coordinates (the camera follows the player). */
function toWorld(px: number, py: number): { x: number; y: number } {
  const scale = viewScale();
  return { x: model.x + (px - canvas.width / 2) / scale, y: model.y + (py - canvas.height / 2) / scale };
}

function viewScale(): number {
  return Math.min(canvas.width, canvas.height) / (model.interestRadius * 2.4);
}

canvas.addEventListener('click', (ev) => {
  canvas.focus({ preventScroll: true });
  const r = canvas.getBoundingClientRect();
  const p = toWorld(((ev.clientX - r.left) * canvas.width) / r.width, ((ev.clientY - r.top) * canvas.height) / r.height);
  // A click on (or right next to) another player attacks it; anywhere else walks there.
  for (const e of model.entities.values()) {
    if (!e.self && !e.dead && Math.hypot(e.x - p.x, e.y - p.y) < 12) {
      attack(e.id, Math.hypot(e.x - model.x, e.y - model.y));
      return;
    }
  }
  model.target = { x: Math.min(model.zoneSize, Math.max(0, p.x)), y: Math.min(model.zoneSize, Math.max(0, p.y)) };
});

function attack(id: number, distance: number): void {
  if (!client) return;
  // strike reaches 60 units, bolt 200 (server rules); the server refuses anything farther.
  client.attack(id, distance <= 55 ? 'strike' : 'bolt');
}

function attackNearest(): void {
  const e = model.nearest(195);
  if (e) attack(e.id, Math.hypot(e.x - model.x, e.y - model.y));
  else system('nobody within reach');
}

chatForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = chatInput.value.trim();
  if (text && client) client.chat(chatChannel.value as PlayerChatChannel, text);
  chatInput.value = '';
  canvas.focus({ preventScroll: true });
});

// ---------------------------------------------------------------------------------------------
// Loops: moves at 10 Hz, pings every 2 s, drawing every frame.

let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const dt = Math.min(0.25, (now - last) / 1000);
  last = now;
  let dx = 0;
  let dy = 0;
  for (const k of keys) {
    const d = DIRS[k];
    if (d) {
      dx += d[0];
      dy += d[1];
    }
  }
  if (client && status.state === 'playing' && model.step(dt, dx, dy)) {
    const seq = client.move(model.x, model.y);
    const i = (seq & 63) * 2;
    sent[i] = model.x;
    sent[i + 1] = model.y;
  }
}, MOVE_INTERVAL_MS);

setInterval(() => {
  if (client && status.state === 'playing') client.ping().catch(() => {});
}, PING_INTERVAL_MS);

/** Copies the model into `window.mmo`: every frame, and at once when play starts. */
function syncStatus(): void {
  status.rttMs = client ? Math.round(client.smoothedRttMs * 10) / 10 : 0;
  status.zone = model.zone;
  status.x = model.x;
  status.y = model.y;
  status.acks = model.acks;
  status.snapshots = model.snapshots;
  status.visible = model.entities.size;
  status.others = [];
  for (const e of model.entities.values()) if (!e.self) status.others.push({ id: e.id, x: e.x, y: e.y });
}

function frame(): void {
  model.interpolate(performance.now());
  syncStatus();
  hud.rtt.textContent = client && client.smoothedRttMs > 0 ? `${client.smoothedRttMs.toFixed(1)} ms` : '–';
  hud.zone.textContent = client ? String(model.zone) : '–';
  hud.visible.textContent = client ? String(Math.max(0, model.entities.size - 1)) : '–';
  hud.hp.textContent = client ? `${model.hp} / ${model.maxHp}${model.dead ? ' (dead)' : ''}` : '–';
  draw(ctx, model, viewScale(), performance.now());
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

void connect();
