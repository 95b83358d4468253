using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Techniques;

/// <summary>
/// The VMM counts exactly what it does: a guest that executes N more privileged instructions of a
/// class shows exactly N more traps of that class, and a guest that touches K more pages with
/// paging on shows exactly K more hidden faults (issue 6, "Counting is exact").
/// </summary>
public sealed class TrapAndEmulateCountingTests
{
    private const string Finish = """
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
        9:  j 9b
        """;

    /// <summary>
    /// M-mode loops: <paramref name="csr"/> csrw, <paramref name="mret"/> mret back into M (each after
    /// two CSR writes: mepc, and MPP = M), <paramref name="sret"/> sret into S (each after two CSR
    /// writes: sepc, SPP = S) and an ecall back, <paramref name="wfi"/> wfi that complete at once (MSIP
    /// pending and enabled in mie, MIE off), <paramref name="sfence"/> sfence.vma.
    /// </summary>
    private static string PrivilegedLoops(int csr, int mret, int sret, int wfi, int sfence) => $$"""
            .globl _start
        _start:
            li s0, {{csr}}
            beqz s0, 2f
        1:  csrw mscratch, s0
            addi s0, s0, -1
            bnez s0, 1b
        2:  li s0, {{mret}}
            li t1, 0x1800
            beqz s0, 4f
        3:  la t0, 31f
            csrw mepc, t0
            csrs mstatus, t1
            mret
        31: addi s0, s0, -1
            bnez s0, 3b
        4:  li s0, {{sret}}
            la t0, 42f
            csrw mtvec, t0
            li t1, 0x100
            beqz s0, 5f
        41: la t0, 43f
            csrw sepc, t0
            csrs mstatus, t1
            sret
        43: ecall
        42: addi s0, s0, -1
            bnez s0, 41b
        5:  li t0, 0x2000000
            li t1, 1
            sw t1, 0(t0)
            li t1, 8
            csrw mie, t1
            li s0, {{wfi}}
            beqz s0, 6f
        51: wfi
            addi s0, s0, -1
            bnez s0, 51b
        6:  li s0, {{sfence}}
            beqz s0, 7f
        61: sfence.vma
            addi s0, s0, -1
            bnez s0, 61b
        7:
        {{Finish}}
        """;

    [Fact]
    public void EachPrivilegedInstruction_IsExactlyOneTrapOfItsClass()
    {
        var baseline = Vmm(PrivilegedLoops(0, 0, 0, 0, 0));
        var counted = Vmm(PrivilegedLoops(37, 11, 13, 7, 5));
        Assert.Equal(37UL + (2 * 11) + (2 * 13), Count(counted, "csr") - Count(baseline, "csr"));
        Assert.Equal(11UL, Count(counted, "mret") - Count(baseline, "mret"));
        Assert.Equal(13UL, Count(counted, "sret") - Count(baseline, "sret"));
        Assert.Equal(13UL, Count(counted, "ecall") - Count(baseline, "ecall"));
        Assert.Equal(7UL, Count(counted, "wfi") - Count(baseline, "wfi"));
        Assert.Equal(5UL, Count(counted, "sfence-vma") - Count(baseline, "sfence-vma"));
        // Each was emulated (or reflected, for the ecalls) and retired as the guest expects.
        Assert.Equal(37UL + (2 * 11) + (2 * 13) + 11 + 13 + 7 + 5, counted.EmulatedInstructions - baseline.EmulatedInstructions);
        Assert.Equal(13UL, counted.ReflectedTraps - baseline.ReflectedTraps);
    }

    /// <summary>
    /// M-mode maps RAM with one Sv39 gigapage (A and D preset, so no store needs a second fault to set
    /// D), enters S-mode, which stores once into each of <paramref name="pages"/> untouched pages and
    /// calls back with ecall.
    /// </summary>
    private static string TouchPages(int pages) => $$"""
            .globl _start
        _start:
            la t0, root
            li t1, (0x80000000 >> 12) << 10 | 0xcf
            sd t1, 16(t0)
            srli t0, t0, 12
            li t1, 8 << 60
            or t0, t0, t1
            csrw satp, t0
            la t0, done
            csrw mtvec, t0
            la t0, supervisor
            csrw mepc, t0
            li t1, 0x800
            csrs mstatus, t1
            mret
        supervisor:
            li s0, {{pages}}
            li t0, 0x80400000
            beqz s0, 2f
        1:  sd s0, 0(t0)
            li t1, 4096
            add t0, t0, t1
            addi s0, s0, -1
            bnez s0, 1b
        2:  ecall
        done:
        {{Finish}}
            .section .data
            .balign 4096
        root:
            .zero 4096
        """;

    [Fact]
    public void EachNewPageTouchedWithPagingOn_IsExactlyOneHiddenFault()
    {
        var none = Vmm(TouchPages(0));
        var touched = Vmm(TouchPages(23));
        Assert.Equal(23UL, touched.HiddenFaults - none.HiddenFaults);
        Assert.Equal(23UL, touched.MachineFramesAllocated - none.MachineFramesAllocated);
        Assert.Equal(0UL, touched.GuestPageFaults);
    }

    private static VmmStatistics Vmm(string source)
    {
        // The guest runs to its end on the bare machine, and identically under the VMM.
        var native = GuestRun.Run(GuestRun.Assemble(source), CpuMode.Native, budget: 10_000_000);
        Assert.True(native.Result.Outcome == GuestRunOutcome.PoweredOff, $"native: {native.Result}");
        var outcome = GuestRun.Run(GuestRun.Assemble(source), CpuMode.TrapAndEmulate, budget: 10_000_000);
        Assert.Equal(native.Result, outcome.Result);
        Assert.Equal(native.Statistics.InstructionsRetired, outcome.Statistics.InstructionsRetired);
        return outcome.Statistics.Vmm!;
    }

    private static ulong Count(VmmStatistics vmm, string trapClass) => vmm.TrapsByCause.GetValueOrDefault(trapClass);
}
