import { ReplSession } from "../cli/repl_session.ts";
import { data, listen, syn } from "../mod.ts";
const s = await ReplSession.open("builtin", (l, k) => console.log(k, l));
await s.exec("listen(8080)", listen(8080));
await s.exec("syn()", syn());
console.log("before data");
await s.exec("data", data("hi"));
console.log("after data");
await s.close();
