import assert from "node:assert/strict";
import {
  emitTcpOptions,
  parseTcpOptions,
  type TcpOption,
  tcpOptionsLength,
} from "./tcp_options.ts";

function roundTrip(bytes: number[], want: TcpOption[]): void {
  const b = new Uint8Array(bytes);
  const got = parseTcpOptions(b, 0, b.length);
  assert.deepEqual(got, want);
  const out = new Uint8Array(tcpOptionsLength(got));
  assert.equal(emitTcpOptions(got, out, 0), b.length);
  assert.deepEqual(out, b);
}

const u8 = (...x: number[]) => new Uint8Array(x);

Deno.test("parseTcpOptions() decodes EOL with its trailing padding", () => {
  roundTrip([0], [{ kind: "eol" }]);
  roundTrip([1, 0, 0, 0], [{ kind: "nop" }, { kind: "eol", trailing: u8(0, 0) }]);
  roundTrip([0, 0xaa], [{ kind: "eol", trailing: u8(0xaa) }]);
});

Deno.test("parseTcpOptions() decodes NOP", () =>
  roundTrip([1, 1], [{ kind: "nop" }, { kind: "nop" }]));
Deno.test("parseTcpOptions() decodes MSS", () =>
  roundTrip([2, 4, 0x05, 0xb4], [{ kind: "mss", value: 1460 }]));
Deno.test("parseTcpOptions() decodes window scale", () =>
  roundTrip([3, 3, 14], [{ kind: "wscale", shift: 14 }]));
Deno.test("parseTcpOptions() decodes SACK-permitted", () =>
  roundTrip([4, 2], [{ kind: "sackOk" }]));

Deno.test("parseTcpOptions() decodes SACK blocks", () =>
  roundTrip([5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 5], [{
    kind: "sack",
    blocks: [[1, 2], [0xffffffff, 5]],
  }]));

Deno.test("parseTcpOptions() decodes timestamps", () =>
  roundTrip([8, 10, 0, 0, 0, 100, 0x80, 0, 0, 0], [{ kind: "ts", val: 100, ecr: 0x80000000 }]));

Deno.test("parseTcpOptions() decodes the MD5 signature", () => {
  const d = Array.from({ length: 16 }, (_, i) => i);
  roundTrip([19, 18, ...d], [{ kind: "md5", digest: new Uint8Array(d) }]);
});

Deno.test("parseTcpOptions() decodes Fast Open, cookie request and cookie", () => {
  roundTrip([34, 2], [{ kind: "fastOpen", cookie: u8() }]);
  roundTrip([34, 10, 1, 2, 3, 4, 5, 6, 7, 8], [{
    kind: "fastOpen",
    cookie: u8(1, 2, 3, 4, 5, 6, 7, 8),
  }]);
});

Deno.test("parseTcpOptions() decodes experimental Fast Open by its magic", () => {
  roundTrip([254, 8, 0xf9, 0x89, 1, 2, 3, 4], [{ kind: "fastOpenExp", cookie: u8(1, 2, 3, 4) }]);
  roundTrip([254, 4, 0x12, 0x34], [{ kind: "raw", type: 254, data: u8(0x12, 0x34) }]);
});

Deno.test("parseTcpOptions() decodes AccECN in both orders", () => {
  roundTrip([172, 11, 0, 0, 1, 0, 0, 2, 0, 0, 3], [{
    kind: "accEcn",
    order: 0,
    counters: [1, 2, 3],
  }]);
  roundTrip([174, 5, 0x01, 0x00, 0x00], [{ kind: "accEcn", order: 1, counters: [0x10000] }]);
  roundTrip([174, 2], [{ kind: "accEcn", order: 1, counters: [] }]);
});

Deno.test("parseTcpOptions() keeps TCP-AO raw", () =>
  roundTrip([29, 6, 1, 2, 0xaa, 0xbb], [{ kind: "raw", type: 29, data: u8(1, 2, 0xaa, 0xbb) }]));
Deno.test("parseTcpOptions() keeps MPTCP raw", () =>
  roundTrip([30, 4, 0x00, 0x81], [{ kind: "raw", type: 30, data: u8(0x00, 0x81) }]));
Deno.test("parseTcpOptions() keeps an unknown kind raw", () =>
  roundTrip([99, 3, 7], [{ kind: "raw", type: 99, data: u8(7) }]));

Deno.test("parseTcpOptions() marks a known kind with the wrong length", () =>
  roundTrip([2, 5, 1, 2, 3], [{
    kind: "raw",
    type: 2,
    data: u8(1, 2, 3),
    malformed: "MSS option length 5, want 4",
  }]));

Deno.test("parseTcpOptions() reports a length running past the end", () =>
  roundTrip([1, 8, 10, 0, 0], [{ kind: "nop" }, {
    kind: "malformed",
    bytes: u8(8, 10, 0, 0),
    reason: "option kind 8 at byte 1 has length 10, past the 4 bytes left",
  }]));

Deno.test("parseTcpOptions() reports a length below 2", () =>
  roundTrip([3, 1, 7], [{
    kind: "malformed",
    bytes: u8(3, 1, 7),
    reason: "option kind 3 at byte 0 has length 1, below 2",
  }]));

Deno.test("parseTcpOptions() reports a missing length byte", () =>
  roundTrip([1, 2], [{ kind: "nop" }, {
    kind: "malformed",
    bytes: u8(2),
    reason: "option kind 2 at byte 1 has no length byte",
  }]));

Deno.test("emitTcpOptions() refuses an option longer than 255 bytes", () => {
  const o: TcpOption[] = [{ kind: "raw", type: 99, data: new Uint8Array(254) }];
  assert.throws(() => emitTcpOptions(o, new Uint8Array(300), 0), /length 256 is above 255/);
});
