/**
 * The C structs of packetdrill's system calls, as bytes for libc and back:
 * sockaddr_in/in6, iovec arrays (each element its own buffer, so the kernel
 * never merges two into one frag), msghdr with its cmsgs (TCP_CM_INQ,
 * IP_RECVERR's sock_extended_err), epoll_event, linger; and the comparisons
 * of what a call wrote back with what the script says (`ee_data: want 1,
 * got 0`, `epoll event 0 events: want EPOLLOUT, got EPOLLERR|EPOLLOUT`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSockaddr, ipv6Bytes } from "./pkt_structs.ts";
 * assert.deepEqual([...encodeSockaddr(2, "192.0.2.1", 8080)].slice(0, 8), [2, 0, 0x1f, 0x90, 192, 0, 2, 1]);
 * assert.deepEqual([...ipv6Bytes("::ffff:192.0.2.1")].slice(10), [0xff, 0xff, 192, 0, 2, 1]);
 * ```
 */
import type { PktExpr } from "../../dsl/pkt/pkt_ast.ts";
import { K, libc } from "../kernel/libc.ts";
import { type Arena, pointerOf } from "./pkt_memory.ts";
import { symbolValue } from "./pkt_symbols.ts";
import { fieldsOf, numberOf, PktCallError } from "./pkt_values.ts";

/** A sockaddr_in or sockaddr_in6 for `ip`:`port`. */
export function encodeSockaddr(family: number, ip: string, port: number): Uint8Array {
  const b = new Uint8Array(family === K.AF_INET6 ? 28 : 16);
  const v = new DataView(b.buffer);
  v.setUint16(0, family, true);
  v.setUint16(2, port);
  if (family === K.AF_INET6) b.set(ipv6Bytes(ip), 8);
  else b.set(ip.split(".").map(Number), 4);
  return b;
}

/** The 16 bytes of an IPv6 address (`::ffff:1.2.3.4` forms included). */
export function ipv6Bytes(ip: string): Uint8Array {
  let text = ip;
  const out = new Uint8Array(16);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = v4[1].split(".").map(Number);
    text = text.slice(0, -v4[1].length) +
      `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const words = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  words.forEach((w, i) => {
    const n = parseInt(w || "0", 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

export function int32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
}

/** A write buffer: `...` (zeros) or a string, `len` bytes. */
export function writeBuffer(arena: Arena, data: PktExpr, len: number): Uint8Array {
  const b = arena.alloc(len);
  if (data.kind === "string") b.set(new TextEncoder().encode(data.value).subarray(0, len));
  return b;
}

export function wantsNone(e: PktExpr | undefined): boolean {
  return !e || e.kind === "ellipsis";
}

export const LINGER: Record<string, [number, number]> = { onoff: [0, 4], linger: [4, 4] };

export function compareStruct(
  want: PktExpr,
  buf: Uint8Array,
  layout: Record<string, [number, number]>,
  what: string,
) {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const [name, f] of fieldsOf(want, what)) {
    const at = layout[name];
    if (!at || f.value.kind === "ellipsis") continue;
    const w = numberOf(f.value, name);
    const g = at[1] === 4
      ? v.getUint32(at[0], true)
      : at[1] === 2
      ? v.getUint16(at[0], true)
      : v.getUint8(at[0]);
    if ((w >>> 0) !== g) return `${name}: want ${w}, got ${g}`;
  }
  return undefined;
}

/** struct epoll_event (packed on x86_64): u32 events, u64 data. The data is the script's fd. */
export function epollEvent(e: PktExpr): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  if (e.kind === "ellipsis") return b;
  const f = fieldsOf(e, "epoll_event");
  v.setUint32(0, numberOf(f.get("events")?.value ?? { kind: "int", value: 0 }, "events"), true);
  const data = f.get("fd") ?? f.get("u32") ?? f.get("u64") ?? f.get("ptr");
  if (data) v.setBigUint64(4, BigInt(numberOf(data.value, "epoll data")), true);
  return b;
}

export function compareEpoll(want: PktExpr, buf: Uint8Array, n: number): string | undefined {
  const items = want.kind === "array" ? want.items : [want];
  const v = new DataView(buf.buffer);
  for (let i = 0; i < Math.min(n, items.length); i++) {
    if (items[i].kind === "ellipsis") continue;
    const f = fieldsOf(items[i], "epoll_event");
    const ev = f.get("events");
    if (ev && ev.value.kind !== "ellipsis") {
      const w = numberOf(ev.value, "events");
      const g = v.getUint32(i * 12, true);
      if ((w >>> 0) !== g) {
        return `epoll event ${i} events: want ${epollNames(w)}, got ${epollNames(g)}`;
      }
    }
    const data = f.get("fd") ?? f.get("u32") ?? f.get("u64") ?? f.get("ptr");
    if (data && data.value.kind !== "ellipsis") {
      const w = numberOf(data.value, "epoll data");
      const g = Number(v.getBigUint64(i * 12 + 4, true));
      if (w !== g) return `epoll event ${i} ${f.has("fd") ? "fd" : "data"}: want ${w}, got ${g}`;
    }
  }
  return undefined;
}

function flagNames(v: number, prefix: string): string {
  if (!v) return "0";
  const names: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const m = 2 ** bit;
    if (!(v & m) && !(bit === 31 && v >= 0x80000000)) continue;
    const hit = (SYMS_FOR[prefix] ??= symbolsWith(prefix)).find(([, n]) => n === m);
    names.push(hit ? hit[0] : `0x${m.toString(16)}`);
  }
  return names.join("|");
}

const SYMS_FOR: Record<string, [string, number][]> = {};
function symbolsWith(prefix: string): [string, number][] {
  const names = prefix === "EPOLL"
    ? [
      "EPOLLIN",
      "EPOLLPRI",
      "EPOLLOUT",
      "EPOLLERR",
      "EPOLLHUP",
      "EPOLLRDNORM",
      "EPOLLRDBAND",
      "EPOLLWRNORM",
      "EPOLLWRBAND",
      "EPOLLMSG",
      "EPOLLRDHUP",
      "EPOLLET",
    ]
    : [
      "POLLIN",
      "POLLPRI",
      "POLLOUT",
      "POLLERR",
      "POLLHUP",
      "POLLNVAL",
      "POLLRDNORM",
      "POLLRDBAND",
      "POLLWRNORM",
      "POLLWRBAND",
      "POLLMSG",
      "POLLRDHUP",
    ];
  return names.map((n) => [n, symbolValue(n)!]);
}
export const epollNames = (v: number) => flagNames(v >>> 0, "EPOLL");
export const pollNames = (v: number) => flagNames(v, "POLL");

/** iovec array `[{..., LEN}, {"text", LEN}]`, each element its own buffer. */
export function iovecs(arena: Arena, e: PktExpr, count: number): Uint8Array {
  const items = e.kind === "array" ? e.items : [];
  if (items.length !== count) {
    throw new PktCallError(`iovcnt ${count} but ${items.length} iovecs written`);
  }
  const iov = arena.alloc(16 * Math.max(1, count));
  const v = new DataView(iov.buffer, iov.byteOffset, iov.byteLength);
  items.forEach((it, i) => {
    const f = fieldsOf(it, "iovec");
    const base = f.get("#0")?.value ?? f.get("iov_base")?.value ?? { kind: "ellipsis" };
    const len = numberOf(
      f.get("#1")?.value ?? f.get("iov_len")?.value ?? { kind: "int", value: 0 },
      "iov_len",
    );
    const b = writeBuffer(arena, base, len);
    v.setBigUint64(i * 16, pointerOf(b), true);
    v.setBigUint64(i * 16 + 8, BigInt(len), true);
  });
  return iov;
}

/** sock_extended_err (uapi/linux/errqueue.h): u32 errno; u8 origin, type, code, pad; u32 info, data. */
export const EE: Record<string, [number, number]> = {
  ee_errno: [0, 4],
  ee_origin: [4, 1],
  ee_type: [5, 1],
  ee_code: [6, 1],
  ee_info: [8, 4],
  ee_data: [12, 4],
};

/**
 * A struct msghdr for sendmsg/recvmsg from `{msg_name(...)=..., msg_iov(N)=[…],
 * msg_flags=F, msg_control=[{cmsg_level, cmsg_type, cmsg_data}]}`, and the check of
 * what recvmsg wrote back: msg_flags and each scripted cmsg, in order.
 */
export function msghdr(
  arena: Arena,
  e: PktExpr,
  dir: "read" | "write",
): { bytes: Uint8Array; check(): string | undefined } {
  const f = fieldsOf(e, "msghdr");
  const msg = arena.alloc(56);
  const v = new DataView(msg.buffer, msg.byteOffset, 56);
  const iovField = f.get("msg_iov");
  const count = iovField?.arg
    ? numberOf(iovField.arg, "msg_iov count")
    : (iovField?.value.kind === "array" ? iovField.value.items.length : 0);
  if (iovField) {
    const iov = iovecs(arena, iovField.value, count);
    v.setBigUint64(16, pointerOf(iov), true);
    v.setBigUint64(24, BigInt(count), true);
  }
  const control = f.get("msg_control")?.value;
  const wantCmsgs = control?.kind === "array" ? control.items : [];
  const ctl = arena.alloc(1024);
  if (dir === "read" || wantCmsgs.length) {
    v.setBigUint64(32, pointerOf(ctl), true);
    v.setBigUint64(40, BigInt(dir === "read" ? ctl.length : writeCmsgs(wantCmsgs, ctl)), true);
  }
  const wantFlags = f.get("msg_flags")?.value;
  return {
    bytes: msg,
    check() {
      if (dir === "write") return undefined;
      if (wantFlags && !wantsNone(wantFlags)) {
        const w = numberOf(wantFlags, "msg_flags");
        const g = v.getInt32(48, true);
        if (w !== g) return `msg_flags: want ${w}, got ${g}`;
      }
      if (!control || control.kind !== "array") return undefined;
      const got = readCmsgs(ctl, Number(v.getBigUint64(40, true)));
      if (got.length !== wantCmsgs.length) {
        return `msg_control: want ${wantCmsgs.length} cmsg${
          wantCmsgs.length === 1 ? "" : "s"
        }, got ${got.length}` +
          (got.length ? ` (${got.map((g) => `level ${g.level} type ${g.type}`).join(", ")})` : "");
      }
      for (let i = 0; i < got.length; i++) {
        const wf = fieldsOf(wantCmsgs[i], "cmsghdr");
        const g = got[i];
        for (const [name, val] of [["cmsg_level", g.level], ["cmsg_type", g.type]] as const) {
          const w = wf.get(name);
          if (w && !wantsNone(w.value) && numberOf(w.value, name) !== val) {
            return `cmsg ${i} ${name}: want ${numberOf(w.value, name)}, got ${val}`;
          }
        }
        const data = wf.get("cmsg_data")?.value;
        if (!data || wantsNone(data)) continue;
        if (data.kind === "struct") {
          const bad = compareStruct(data, g.data, EE, "cmsg_data");
          if (bad) return `cmsg ${i} ${bad}`;
        } else {
          const w = numberOf(data, "cmsg_data");
          const gv = int32(g.data);
          if (w !== gv) return `cmsg ${i} cmsg_data: want ${w}, got ${gv}`;
        }
      }
      return undefined;
    },
  };
}

function writeCmsgs(items: PktExpr[], ctl: Uint8Array): number {
  const v = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
  let at = 0;
  for (const it of items) {
    const f = fieldsOf(it, "cmsghdr");
    const data = f.get("cmsg_data")?.value ?? { kind: "int", value: 0 };
    const len = 16 + 4;
    v.setBigUint64(at, BigInt(len), true);
    v.setInt32(at + 8, numberOf(f.get("cmsg_level")!.value, "cmsg_level"), true);
    v.setInt32(at + 12, numberOf(f.get("cmsg_type")!.value, "cmsg_type"), true);
    v.setInt32(at + 16, numberOf(data, "cmsg_data"), true);
    at += (len + 7) & ~7;
  }
  return at;
}

function readCmsgs(
  ctl: Uint8Array,
  len: number,
): { level: number; type: number; data: Uint8Array }[] {
  const v = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
  const out: { level: number; type: number; data: Uint8Array }[] = [];
  let at = 0;
  while (at + 16 <= len) {
    const l = Number(v.getBigUint64(at, true));
    if (l < 16) break;
    out.push({
      level: v.getInt32(at + 8, true),
      type: v.getInt32(at + 12, true),
      data: ctl.subarray(at + 16, at + l),
    });
    at += (l + 7) & ~7;
  }
  return out;
}

/** getsockopt(2) into a buffer of `size` bytes: the bytes the kernel filled, or undefined when it fails. */
export function sockoptBytes(
  fd: number,
  level: number,
  name: number,
  size: number,
): Uint8Array | undefined {
  const b = new Uint8Array(new ArrayBuffer(size));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, size, true);
  if (libc().getsockopt(fd, level, name, b, len) !== 0) return undefined;
  return b.subarray(0, new DataView(len.buffer).getUint32(0, true));
}
