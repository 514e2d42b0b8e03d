/**
 * The TCP sockets a process tree listens on, read from Linux's /proc (no `ss` or `lsof` needed): the
 * pids under a root pid, their socket inodes (`/proc/<pid>/fd/* -> socket:[inode]`), and the LISTEN
 * rows of `/proc/net/tcp` and `/proc/net/tcp6` with those inodes.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ListeningSocket {
  /** `127.0.0.1`, `0.0.0.0`, `::1`, `::`, `::ffff:127.0.0.1`, ... */
  address: string;
  port: number;
  pid: number;
}

/** The pids of `root` and all its descendants (by the parent pid in /proc/<pid>/stat). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: the parent pid follows the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** `0100007F` → `127.0.0.1`; 32 hex digits → an IPv6 address (each 32-bit word is little-endian). */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  if (bytes.slice(0, 15).every((b) => b === 0)) return bytes[15] === 0 ? '::' : `::${bytes[15].toString(16)}`;
  // Other addresses unshortened (eight groups): enough to tell loopback from the rest.
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

/** Every TCP socket in LISTEN state owned by `root` or a descendant. */
export function listeningSockets(root = process.pid): ListeningSocket[] {
  const inodeToPid = new Map<string, number>();
  for (const pid of processTree(root)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodeToPid.set(m[1], pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  const out: ListeningSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      const pid = inodeToPid.get(cols[9]);
      if (pid === undefined) continue;
      const [addr, port] = cols[1].split(':');
      out.push({ address: decodeAddress(addr), port: parseInt(port, 16), pid });
    }
  }
  return out;
}

/** Whether an address from {@link listeningSockets} is loopback (127.0.0.0/8, ::1, ::ffff:127.x). */
export function isLoopbackAddress(address: string): boolean {
  return /^(?:::ffff:)?127\./.test(address) || address === '::1';
}
