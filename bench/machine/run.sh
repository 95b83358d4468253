#!/usr/bin/env bash
# Machine benchmarks (issue 4), in one run:
#  1. bench-cpu (sieve, CRC-32, matrix multiply) on this machine and on qemu-system-riscv64: guest MIPS
#     of both and their ratio. QEMU's MIPS is this machine's retired-instruction count for the same
#     deterministic program divided by QEMU's wall time (QEMU does not count instructions itself).
#  2. host memory of a 1 GiB VM whose guest touched 1 MiB: peak RSS minus that of the same VM
#     touching nothing.
# Reproduce: bench/machine/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release src/VirtApi.Cli -v q -nologo >/dev/null
cli="dotnet src/VirtApi.Cli/bin/Release/net10.0/virtapi.dll"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

$cli assemble src/VirtApi.Guests/Programs/bench-cpu.S "$work/bench-cpu.elf"
ours=$($cli run "$work/bench-cpu.elf" 2>&1 >"$work/ours.out" | tail -1)
instructions=$(echo "$ours" | grep -oE '[0-9]+ instructions' | grep -oE '[0-9]+')
ours_mips=$(echo "$ours" | grep -oE '[0-9.]+ MIPS' | grep -oE '[0-9.]+')
start=$(date +%s.%N)
qemu-system-riscv64 -machine virt -bios none -nographic -monitor none -serial stdio -kernel "$work/bench-cpu.elf" </dev/null >"$work/qemu.out"
end=$(date +%s.%N)
cmp -s "$work/ours.out" "$work/qemu.out" || { echo "outputs differ"; exit 1; }
qemu_mips=$(echo "$instructions / ($end - $start) / 1000000" | bc -l)
printf 'bench-cpu: %s instructions; this machine %.1f MIPS, qemu-system-riscv64 (TCG) %.1f MIPS, ratio %.3f (same output)\n' \
  "$instructions" "$ours_mips" "$qemu_mips" "$(echo "$ours_mips / $qemu_mips" | bc -l)"

cat >"$work/touch.S" <<'ASM'
    .globl _start
_start:
    la t0, buffer
    li t1, 1048576
    add t1, t0, t1
    li t2, 4096
    bge t0, t1, 2f
1:  sd t1, 0(t0)
    add t0, t0, t2
    blt t0, t1, 1b
2:
    li t0, 0x100000
    li t1, 0x5555
    sw t1, 0(t0)
    .bss
    .align 12
buffer: .zero 1048576
ASM
sed -e 's/^    li t1, 1048576$/    li t1, 0/' "$work/touch.S" >"$work/idle.S"
base=$(/usr/bin/time -f '%M' $cli run "$work/idle.S" --memory 1024 2>&1 >/dev/null | tail -1)
touched=$(/usr/bin/time -f '%M' $cli run "$work/touch.S" --memory 1024 2>&1 >/dev/null | tail -1)
printf 'memory: a 1 GiB VM whose guest touched 1 MiB: peak RSS %d KiB vs %d KiB touching nothing: %d KiB beyond the baseline\n' \
  "$touched" "$base" "$((touched - base))"
echo "reproduce: bench/machine/run.sh"
