/**
 * Draws the world around the player: a grid for a sense of motion, the zone's edges, the interest
 * radius, and every entity in view with its name and HP.
 */
import { restingAt } from '../../../client/interpolation.ts';
import type { Entity, GameModel } from './game.ts';

const GRID = 50;

function colorOf(id: number): string {
  return `hsl(${(id * 137.508) % 360} 60% 60%)`;
}

/** Renders one frame; `scale` is pixels per world unit, the camera centred on the player. */
export function draw(ctx: CanvasRenderingContext2D, m: GameModel, scale: number, now: number): void {
  const { width: w, height: h } = ctx.canvas;
  ctx.fillStyle = '#050608';
  ctx.fillRect(0, 0, w, h);
  if (m.playerId === 0) return;
  const sx = (x: number) => w / 2 + (x - m.x) * scale;
  const sy = (y: number) => h / 2 + (y - m.y) * scale;
  // The zone is lighter than the void around it, so its edges read at a glance.
  ctx.fillStyle = '#0b0e13';
  ctx.fillRect(sx(0), sy(0), m.zoneSize * scale, m.zoneSize * scale);

  ctx.strokeStyle = '#18202c';
  ctx.lineWidth = 1;
  ctx.beginPath();
  const x0 = Math.floor((m.x - w / 2 / scale) / GRID) * GRID;
  const y0 = Math.floor((m.y - h / 2 / scale) / GRID) * GRID;
  for (let x = x0; sx(x) < w; x += GRID) {
    ctx.moveTo(sx(x), 0);
    ctx.lineTo(sx(x), h);
  }
  for (let y = y0; sy(y) < h; y += GRID) {
    ctx.moveTo(0, sy(y));
    ctx.lineTo(w, sy(y));
  }
  ctx.stroke();

  ctx.strokeStyle = '#3d6fb6';
  ctx.lineWidth = 2;
  ctx.strokeRect(sx(0), sy(0), m.zoneSize * scale, m.zoneSize * scale);

  ctx.strokeStyle = 'rgba(127, 214, 127, .25)';
  ctx.setLineDash([6, 6]);
  ctx.beginPath();
  ctx.arc(w / 2, h / 2, m.interestRadius * scale, 0, Math.PI * 2);
  ctx.stroke();
  ctx.setLineDash([]);

  if (m.target) {
    ctx.strokeStyle = '#8a96a8';
    ctx.beginPath();
    ctx.arc(sx(m.target.x), sy(m.target.y), 4, 0, Math.PI * 2);
    ctx.stroke();
  }

  const others: Entity[] = [];
  for (const e of m.entities.values()) if (!e.self) others.push(e);
  for (const e of others) drawEntity(ctx, e, sx(e.x), sy(e.y), scale, now, false);
  const self = m.entities.get(m.playerId);
  drawEntity(
    ctx,
    self ?? { id: m.playerId, x: m.x, y: m.y, glide: restingAt(m.x, m.y, now), hp: m.hp, maxHp: m.maxHp, name: 'you', dead: m.dead, self: true, hitAt: 0 },
    w / 2,
    h / 2,
    scale,
    now,
    true,
  );

  if (m.dead) {
    ctx.fillStyle = 'rgba(0, 0, 0, .5)';
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = '#ff7b72';
    ctx.font = 'bold 28px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText('defeated — respawning…', w / 2, h / 2 - 40);
  }
}

function drawEntity(ctx: CanvasRenderingContext2D, e: Entity, x: number, y: number, scale: number, now: number, self: boolean): void {
  const r = Math.max(5, 8 * scale);
  ctx.globalAlpha = e.dead ? 0.35 : 1;
  ctx.fillStyle = now - e.hitAt < 150 ? '#ffffff' : self ? '#f0c674' : colorOf(e.id);
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fill();
  if (self) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  const barW = r * 2.4;
  const frac = e.maxHp > 0 ? Math.max(0, Math.min(1, e.hp / e.maxHp)) : 0;
  ctx.fillStyle = '#3a1d1d';
  ctx.fillRect(x - barW / 2, y - r - 8, barW, 4);
  ctx.fillStyle = frac > 0.3 ? '#7fd67f' : '#ff7b72';
  ctx.fillRect(x - barW / 2, y - r - 8, barW * frac, 4);
  ctx.fillStyle = '#dde3ea';
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.fillText(self ? `${e.name} (you)` : e.name, x, y - r - 12);
  ctx.globalAlpha = 1;
}
