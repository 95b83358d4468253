// Trap-and-emulate benchmark (issue 6): native against trap-and-emulate in one run.
//  1. bench-cpu and demo-kernel: host time (median of 3) and estimated cycles (cost model), and their ratios.
//  2. Nanobenchmarks after Adams and Agesen (ASPLOS 2006): a system call (U ecall -> S handler -> sret),
//     a CSR access (csrr sscratch in S), a page fault (S touches an unmapped page; its handler maps it),
//     a page-table-entry change (S rewrites a PTE, sfence.vma on the page, loads through it). Each runs
//     N and 0 operations; cost per operation = (run(N) - run(0)) / N, in host nanoseconds and estimated cycles.
// Reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Hypervisor
using System.Diagnostics;
using System.Globalization;
using VirtApi.Guests;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Console.WriteLine("guest                  native ms   t&e ms   host ratio   native Mcycles   t&e Mcycles   cycle ratio");
foreach (var name in new[] { "bench-cpu", "demo-kernel" })
{
    var elf = BenchGuests.Assemble(GuestCatalog.Find(name)!.Source);
    var native = Measure(elf, CpuMode.Native, 3);
    var emulated = Measure(elf, CpuMode.TrapAndEmulate, 3);
    Console.WriteLine($"{name,-20} {native.Ms,11:F1} {emulated.Ms,8:F1} {emulated.Ms / native.Ms,12:F3} {native.Cycles / 1e6,16:F2} {emulated.Cycles / 1e6,13:F2} {emulated.Cycles / native.Cycles,13:F3}");
}

Console.WriteLine();
Console.WriteLine("nanobenchmark        ops     native ns/op   t&e ns/op   native cycles/op   t&e cycles/op   t&e traps/op");
foreach (var (kind, ops) in new[] { ("syscall", 20_000), ("csr-access", 50_000), ("page-fault", 4_096), ("pte-change", 20_000) })
{
    var empty = BenchGuests.Assemble(Nanobenchmark(kind, 0));
    var full = BenchGuests.Assemble(Nanobenchmark(kind, ops));
    var native = Measure(full, CpuMode.Native, 5) - Measure(empty, CpuMode.Native, 5);
    var emulated = Measure(full, CpuMode.TrapAndEmulate, 5) - Measure(empty, CpuMode.TrapAndEmulate, 5);
    Console.WriteLine($"{kind,-16} {ops,8} {native.Ms * 1e6 / ops,16:F1} {emulated.Ms * 1e6 / ops,11:F1} {native.Cycles / ops,18:F1} {emulated.Cycles / ops,15:F1} {emulated.Traps / ops,14:F2}");
}
Console.WriteLine();
Console.WriteLine("reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Hypervisor");
return 0;


// Median host time of `runs` runs to power-off, with the run's estimated cycles and VMM traps.
static Sample Measure(byte[] elf, CpuMode mode, int runs)
{
    var samples = new List<Sample>();
    for (var run = 0; run < runs; run++)
    {
        var spec = new VmSpec(Guid.NewGuid(), "bench", elf, 1, 64, mode, CpuProfile.Riscv, mode == CpuMode.Native ? MemoryMode.Direct : MemoryMode.Shadow, null);
        var execution = new GuestExecutionFactory().Boot(spec, new Discard());
        var stopwatch = Stopwatch.StartNew();
        GuestRunResult result;
        do
        {
            result = execution.Run(10_000_000);
        }
        while (result.Outcome == GuestRunOutcome.SliceDone && execution.InstructionsRetired < 5_000_000_000);
        stopwatch.Stop();
        if (result.Outcome != GuestRunOutcome.PoweredOff || result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{mode}: {result}");
        }
        var stats = execution.CaptureStatistics();
        var cycles = stats.Vmm is { } vmm ? vmm.GuestCycles + vmm.VmmCycles : stats.InstructionsRetired;
        samples.Add(new Sample(stopwatch.Elapsed.TotalMilliseconds, cycles, stats.Vmm?.Traps ?? 0));
    }
    return samples.OrderBy(s => s.Ms).ElementAt(runs / 2);
}

// An S-mode kernel under Sv39 (devices and RAM as gigapages for S, RAM again at 0xC000_0000 for U,
// and a 2 MiB window at 0x4000_0000 mapped page by page) that performs `ops` operations of `kind` and powers off.
static string Nanobenchmark(string kind, int ops)
{
    var body = kind switch
    {
        "syscall" => """
                # U runs the same code through the user alias of RAM at 0xC000_0000
                la t0, user
                li t1, 0x40000000
                add t0, t0, t1
                csrw sepc, t0
                li t1, 0x100
                csrc sstatus, t1
                sret
            user:
                li s1, {OPS}
            1:  beqz s1, 2f
                ecall
                addi s1, s1, -1
                j 1b
            2:  li a7, 1
                ecall
            """,
        "csr-access" => """
                li s1, {OPS}
            1:  beqz s1, finish
                csrr t0, sscratch
                addi s1, s1, -1
                j 1b
            """,
        "page-fault" => """
                li s1, {OPS}
                li s2, 0x40000000
            1:  beqz s1, finish
                ld t0, 0(s2)
                li t1, 4096
                add s2, s2, t1
                addi s1, s1, -1
                andi t1, s1, 511
                bnez t1, 1b
                # every 512 faults the window is unmapped again
                la t0, level0
                li t1, 512
            3:  sd zero, 0(t0)
                addi t0, t0, 8
                addi t1, t1, -1
                bnez t1, 3b
                sfence.vma
                li s2, 0x40000000
                j 1b
            """,
        _ => """
                li s1, {OPS}
                la s3, level0
                li s2, 0x40000000
                li s4, (0x80400000 >> 12) << 10 | 0xc7
                li s5, (0x80401000 >> 12) << 10 | 0xc7
            1:  beqz s1, finish
                andi t1, s1, 1
                mv t0, s4
                beqz t1, 2f
                mv t0, s5
            2:  sd t0, 0(s3)
                sfence.vma s2
                ld t0, 0(s2)
                addi s1, s1, -1
                j 1b
            """,
    };
    return """
            .globl _start
        _start:
            la t0, root
            la t1, level1
            srli t2, t1, 12
            slli t2, t2, 10
            ori t2, t2, 1
            sd t2, 8(t0)
            la t1, level0
            srli t2, t1, 12
            slli t2, t2, 10
            ori t2, t2, 1
            la t3, level1
            sd t2, 0(t3)
            li t2, 0xc7
            sd t2, 0(t0)
            li t2, (0x80000000 >> 12) << 10 | 0xcf
            sd t2, 16(t0)
            li t2, (0x80000000 >> 12) << 10 | 0xdf
            sd t2, 24(t0)
            srli t0, t0, 12
            li t1, 8 << 60
            or t0, t0, t1
            csrw satp, t0
            li t0, (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
            csrw medeleg, t0
            la t0, strap
            csrw stvec, t0
            la t0, kernel
            csrw mepc, t0
            li t1, 0x1800
            csrc mstatus, t1
            li t1, 0x800
            csrs mstatus, t1
            mret
        kernel:
        {BODY}
        finish:
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
        9:  j 9b
        strap:
            csrr t5, scause
            li t6, 8
            beq t5, t6, syscall
            # a page fault in the window: map the page (PPN 0x80200 + index), fence it, retry
            csrr t5, stval
            srli t6, t5, 12
            andi t6, t6, 511
            slli t4, t6, 3
            la t3, level0
            add t3, t3, t4
            li t4, 0x80200
            add t4, t4, t6
            slli t4, t4, 10
            ori t4, t4, 0xc7
            sd t4, 0(t3)
            sfence.vma t5
            sret
        syscall:
            li t6, 1
            beq a7, t6, finish
            csrr t5, sepc
            addi t5, t5, 4
            csrw sepc, t5
            sret
            .section .data
            .balign 4096
        root:
            .zero 4096
        level1:
            .zero 4096
        level0:
            .zero 4096
        """.Replace("{BODY}", body.Replace("{OPS}", ops.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), StringComparison.Ordinal);
}

internal readonly record struct Sample(double Ms, double Cycles, double Traps)
{
    public static Sample operator -(Sample a, Sample b) => new(a.Ms - b.Ms, a.Cycles - b.Cycles, a.Traps - b.Traps);
}

internal sealed class Discard : IConsoleOutput
{
    public void Write(byte value)
    {
    }
}
