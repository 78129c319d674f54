import { describe, expect, it } from 'vitest';
import { candidateAddress } from '../../../client/link.ts';
import { iceFailure } from '../../../cli/probe/players.ts';

describe('what the players\' probe says about a failed ICE hop', () => {
  it('reads host:port from the candidate lines a server offers, IPv6 bracketed, other lines ignored', () => {
    expect(candidateAddress('a=candidate:1 1 UDP 2114977791 203.0.113.12 20000 typ host')).toBe('203.0.113.12:20000');
    expect(candidateAddress('candidate:2 1 udp 1686052607 198.51.100.7 30001 typ srflx raddr 0.0.0.0 rport 0')).toBe('198.51.100.7:30001');
    expect(candidateAddress('a=candidate:3 1 UDP 2114977535 fd00::12 20000 typ host')).toBe('[fd00::12]:20000');
    expect(candidateAddress('a=candidate:4 1 TCP 2114977535 10.0.0.1 9 typ host tcptype active')).toBeUndefined();
    expect(candidateAddress('a=ice-ufrag:abcd')).toBeUndefined();
  });

  it('names the address the server announced, and says when it is not where players are expected', () => {
    expect(iceFailure(['203.0.113.12:20000'], '203.0.113.11:20000')).toBe(
      'no UDP reached the game server at the address it announced, 203.0.113.12:20000: the data channel did not open ' +
        '(the server announced 203.0.113.12:20000 where players are expected at 203.0.113.11:20000 (udp.announce: the node\'s address the server picks is not the one players reach))',
    );
    expect(iceFailure(['203.0.113.11:20000'], '203.0.113.11:20000')).toMatch(/at the address it announced, 203\.0\.113\.11:20000: .*\(a firewall, a node port or host port not forwarded/);
    expect(iceFailure(['203.0.113.11:20000'], undefined)).toMatch(/a firewall/);
  });

  it('says so when the server announced no UDP address at all', () => {
    expect(iceFailure([], '203.0.113.11:30000')).toBe(
      'no UDP reached the game server at 203.0.113.11:30000: the data channel did not open (the server offered no UDP address at all (its UDP transport or announce address is not set up))',
    );
    expect(iceFailure([], undefined)).toMatch(/^no UDP reached the game server at its UDP port: /);
  });
});
