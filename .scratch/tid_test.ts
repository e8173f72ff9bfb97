Deno.test("tid", () => {
  const lib = Deno.dlopen("libc.so.6", { gettid: { parameters: [], result: "i32" } });
  console.log("pid", Deno.pid, "tid", lib.symbols.gettid());
  lib.close();
});
