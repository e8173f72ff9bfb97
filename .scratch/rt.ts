import { libc } from "../runtime/kernel/libc.ts";
const param = new Uint8Array(4);
new DataView(param.buffer).setInt32(0, 1, true);
console.log(libc().sched_setscheduler(0, 2, param), libc().errno());
const t = new Deno.Command("ps", {
  args: ["-L", "-o", "tid,cls,rtprio,comm", "-p", String(Deno.pid)],
}).outputSync();
console.log(new TextDecoder().decode(t.stdout));
