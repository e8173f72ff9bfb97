import assert from "node:assert/strict";
import { DecodeError } from "./decode_error.ts";
import { emitEthernet, ethernetLength, parseEthernet } from "./ethernet.ts";

// 02:00:00:00:00:02 > 02:00:00:00:00:01, one 802.1Q tag (VID 100), IPv4.
// deno-fmt-ignore
const VLAN_BYTES = new Uint8Array([
  0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x81, 0x00, 0x00, 0x64,
  0x08, 0x00,
]);

Deno.test("parseEthernet() decodes an 802.1Q-tagged frame", () => {
  const { header, payloadStart } = parseEthernet(VLAN_BYTES);
  assert.deepEqual(header.vlans, [{ tpid: 0x8100, tci: 100 }]);
  assert.equal(header.etherType, 0x0800);
  assert.equal(payloadStart, 18);
});

Deno.test("emitEthernet() writes the tagged frame header", () => {
  const h = parseEthernet(VLAN_BYTES).header;
  const buf = new Uint8Array(ethernetLength(h));
  emitEthernet(h, buf, 0);
  assert.deepEqual(buf, VLAN_BYTES);
});

Deno.test("parseEthernet() rejects a truncated header", () => {
  assert.throws(() => parseEthernet(VLAN_BYTES.subarray(0, 13)), (e) => e instanceof DecodeError);
  assert.throws(() => parseEthernet(VLAN_BYTES.subarray(0, 15)), /802.1Q tag is truncated/);
});
