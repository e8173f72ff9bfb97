import assert from "node:assert/strict";
import { address } from "./address.ts";

Deno.test("address.format() follows RFC 5952", () => {
  const cases: Array<[string, string]> = [
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::ffff:10.0.0.1", "::ffff:10.0.0.1"],
  ];
  for (const [i, o] of cases) assert.equal(address.format(address.parse(i)), o);
});

Deno.test("address.parse() rejects malformed text with the reason", () => {
  assert.throws(() => address.parse("1.2.3"), /want 4 dotted octets, got 3/);
  assert.throws(() => address.parse("1::2::3"), /'::' appears more than once/);
  assert.throws(() => address.parse("1:2:3:4:5:6:7"), /want 8 groups, got 7/);
  assert.throws(() => address.parse("fffff::1"), /group "fffff" is not 1 to 4 hex digits/);
  assert.throws(() => address.parse("1:2:3:4:5:6:7::8"), /'::' must stand for at least one group/);
});
