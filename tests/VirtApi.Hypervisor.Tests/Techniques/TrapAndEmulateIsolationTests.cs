using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Hypervisor.Tests.Techniques;

/// <summary>
/// A guest reaches only its own frames (issue 6, "Isolation"): under trap-and-emulate the machine
/// memory right past the guest's RAM holds the VMM's shadow tables, yet the guest gets an access
/// fault there, by physical address or through its own page table, exactly as on the bare machine.
/// And no instruction stream makes the VMM fail: it ends as it ends natively.
/// </summary>
public sealed class TrapAndEmulateIsolationTests
{
    // A 16 MiB guest: its RAM is [0x8000_0000, 0x8100_0000); under trap-and-emulate the shadow pool starts at 0x8100_0000.
    private const string Probes = """
            .globl _start
        _start:
            la t0, trap
            csrw mtvec, t0
            la sp, stack_top
            # 1. Physical load just past the guest's RAM.
            li a0, 0x81000000
            ld a1, 0(a0)
            # 2. Physical store to the last byte of a machine frame past the guest's RAM.
            li a0, 0x81001ff8
            sd a0, 0(a0)
            # 3. Through the guest's own page table: a 2 MiB page at VA 0x40000000 -> PA 0x81000000, read from S-mode.
            la t0, root
            la t1, level1
            srli t2, t1, 12
            slli t2, t2, 10
            ori t2, t2, 1
            sd t2, 8(t0)
            li t2, (0x81000000 >> 12) << 10 | 0xcf
            sd t2, 0(t1)
            li t2, (0x80000000 >> 12) << 10 | 0xcf
            sd t2, 16(t0)
            srli t0, t0, 12
            li t1, 8 << 60
            or t0, t0, t1
            csrw satp, t0
            sfence.vma
            la t0, supervisor
            csrw mepc, t0
            li t1, 0x1800
            csrc mstatus, t1
            li t1, 0x800
            csrs mstatus, t1
            mret
        supervisor:
            li a0, 0x40000000
            ld a1, 0(a0)
            ecall
        trap:
            # Print "cause tval" for each trap and go on after the faulting instruction; the ecall ends.
            csrr t3, mcause
            li t4, 9
            beq t3, t4, done
            mv a0, t3
            call puthex
            csrr a0, mtval
            call puthex
            csrr t3, mepc
            addi t3, t3, 4
            csrw mepc, t3
            mret
        done:
            li t0, 0x100000
            li t1, 0x5555
            sw t1, 0(t0)
        1:  j 1b
        puthex:
            li t0, 0x10000000
            li t1, 60
        2:  srl t2, a0, t1
            andi t2, t2, 15
            li t5, 10
            blt t2, t5, 3f
            addi t2, t2, 39
        3:  addi t2, t2, 48
            sb t2, 0(t0)
            addi t1, t1, -4
            bgez t1, 2b
            li t2, 10
            sb t2, 0(t0)
            ret
            .section .data
            .balign 4096
        root:
            .zero 4096
        level1:
            .zero 4096
            .zero 1024
        stack_top:
        """;

    [Fact]
    public void GuestAccessesOutsideItsRam_AreAccessFaults_PhysicallyAndThroughItsPageTable()
    {
        var elf = GuestRun.Assemble(Probes);
        var native = GuestRun.Run(elf, CpuMode.Native, memoryMiB: 16);
        var emulated = GuestRun.Run(elf, CpuMode.TrapAndEmulate, memoryMiB: 16);
        const string Expected = """
            0000000000000005
            0000000081000000
            0000000000000007
            0000000081001ff8
            0000000000000005
            0000000040000000

            """;
        Assert.Equal(Expected, native.Console);
        Assert.Equal(Expected, emulated.Console);
        Assert.Equal(GuestRunOutcome.PoweredOff, emulated.Result.Outcome);
        Assert.Equal(native.Statistics.InstructionsRetired, emulated.Statistics.InstructionsRetired);
    }

    /// <summary>
    /// Random instruction streams, biased to what a VMM handles (CSR accesses to real and unknown
    /// CSRs, xRET, wfi, sfence.vma, ecall, loads and stores to RAM, devices and nothing): each ends
    /// under trap-and-emulate as it ends on the bare machine, and none makes the VMM throw.
    /// </summary>
    [Fact]
    public void RandomInstructionStreams_EndAsOnTheBareMachine_AndNeverFaultTheVmm()
    {
        int[] csrs = [0x300, 0x100, 0x304, 0x104, 0x305, 0x105, 0x341, 0x141, 0x342, 0x180, 0x302, 0x303, 0x340, 0x344, 0x144, 0x14D, 0x30A, 0xC00, 0xC01, 0xF14, 0x7C0, 0x3A0];
        uint[] system = [0x30200073, 0x10200073, 0x10500073, 0x12000073, 0x00000073, 0x00100073];
        var differences = new List<string>();
        for (var seed = 1; seed <= 60; seed++)
        {
            var random = new Random(seed);
            var lines = new List<string> { ".globl _start", "_start:", "la t0, handler", "csrw mtvec, t0", "li s2, 0x10000000", "li s3, 0x80010000", "li s4, 0x2000000" };
            for (var i = 0; i < 48; i++)
            {
                var reg = random.Next(5, 16);
                lines.Add(random.Next(8) switch
                {
                    0 => $".word 0x{(uint)random.Next() << 1 | (uint)random.Next(2):x8}",
                    1 or 2 => $"csr{(random.Next(3) switch { 0 => "rw", 1 => "rs", _ => "rc" })} x{reg}, 0x{csrs[random.Next(csrs.Length)]:x}, x{random.Next(0, 16)}",
                    3 => $".word 0x{system[random.Next(system.Length)]:x8}",
                    4 => $"{(random.Next(2) == 0 ? "ld" : "lw")} x{reg}, {random.Next(-64, 64) * 8}(s{random.Next(2, 5)})",
                    5 => $"{(random.Next(2) == 0 ? "sd" : "sb")} x{reg}, {random.Next(-64, 64) * 8}(s{random.Next(2, 5)})",
                    _ => $"addi x{reg}, x{random.Next(0, 16)}, {random.Next(-2048, 2048)}",
                });
            }
            lines.AddRange(["li t0, 0x100000", "li t1, 0x5555", "sw t1, 0(t0)", "handler:", "csrr t6, mepc", "addi t6, t6, 4", "csrw mepc, t6", "mret"]);
            var elf = GuestRun.Assemble(string.Join("\n", lines) + "\n");
            var native = GuestRun.Run(elf, CpuMode.Native, budget: 200_000, memoryMiB: 16);
            var emulated = GuestRun.Run(elf, CpuMode.TrapAndEmulate, budget: 200_000, memoryMiB: 16);
            if (native.Result.Outcome != emulated.Result.Outcome || native.Statistics.InstructionsRetired != emulated.Statistics.InstructionsRetired
                || native.Console != emulated.Console || native.Result.ExitCode != emulated.Result.ExitCode)
            {
                differences.Add($"seed {seed}: native {native.Result} after {native.Statistics.InstructionsRetired}, trap-and-emulate {emulated.Result} after {emulated.Statistics.InstructionsRetired}");
            }
        }
        Assert.Empty(differences);
    }
}
