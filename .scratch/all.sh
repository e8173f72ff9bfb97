for f in $(ls /tmp/corpus/linux-source-6.12/tools/testing/selftests/net/packetdrill/*.pkt); do
  b=$(basename $f)
  for fam in ipv4 ipv6; do
    echo "$b $fam $(timeout 60 ./node_modules/.bin/deno run -A .scratch/r.ts $b $fam 2>&1 | head -3 | tr '\n' ' ')"
  done
done
