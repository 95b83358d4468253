using System.Text;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Elf;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Tests.Differential;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Tests.Core;

/// <summary>Behaviour only this machine can show exactly: virtual time, input, HTIF, the loader and RAM.</summary>
public sealed class BoardTests
{
    private static byte[] Assemble(string source)
    {
        var result = RiscVAssembler.Assemble(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    [Fact]
    public void ClintTimerInterrupt_WakesWfi_AtTheExactVirtualTime()
    {
        // mtimecmp = 1000 ticks; wfi fast-forwards virtual time to it; the handler reads mtime.
        var outcome = GuestProgram.Run(Assemble("""
            .globl _start
            _start:
                la t0, handler
                csrw mtvec, t0
                li t0, 0x2004000          # mtimecmp of hart 0
                li t1, 1000
                sd t1, 0(t0)
                li t0, 1 << 7
                csrs mie, t0              # MTIE
                csrsi mstatus, 8          # MIE
            1:  wfi
                j 1b
            handler:
                li t0, 0x200bff8
                ld a0, 0(t0)              # mtime when the interrupt was taken
                csrr a1, mcause
                li t0, 0x10000000
                sb a0, 0(t0)
                srli a0, a0, 8
                sb a0, 0(t0)
                sb a1, 0(t0)
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            """));
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(new byte[] { 1000 & 0xff, 1000 >> 8, 7 }, outcome.Console);
        Assert.Equal(1UL, outcome.Board.Harts[0].Counters.Interrupts[(int)InterruptCause.MachineTimer]);
    }

    [Fact]
    public void TimerInterrupt_ArrivesAtTheSameInstructionEveryRun()
    {
        // A busy loop counts iterations until the timer (mtimecmp = 50 ticks = 5000 instructions) fires.
        const string Source = """
            .globl _start
            _start:
                la t0, handler
                csrw mtvec, t0
                li t0, 0x2004000
                li t1, 50
                sd t1, 0(t0)
                li t0, 1 << 7
                csrs mie, t0
                csrsi mstatus, 8
                li a0, 0
            1:  addi a0, a0, 1
                j 1b
            handler:
                li t0, 0x10000000
                sb a0, 0(t0)
                srli a0, a0, 8
                sb a0, 0(t0)
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            """;
        var first = GuestProgram.Run(Assemble(Source));
        var second = GuestProgram.Run(Assemble(Source), slice: 333);
        Assert.Equal(first.Console, second.Console);
        Assert.Equal(first.Instructions, second.Instructions);
        var iterations = first.Console[0] | (first.Console[1] << 8);
        Assert.InRange(iterations, 2480, 2500); // ~5000 instructions of a 2-instruction loop
    }

    [Fact]
    public void UartInput_RaisesTheUartInterrupt_ThroughThePlic_AndIsEchoed()
    {
        var elf = Assemble(File.ReadAllText(Path.Combine(GuestProgram.Folder, "uart-echo-irq.S")));
        var outcome = GuestProgram.Run(elf, budget: 100_000, beforeRun: board =>
        {
            Assert.Equal(StopReason.Idle, board.Run(1_000_000).Reason); // waiting for input, nothing armed
            Assert.Equal(3, board.Uart.Receive("ok."u8));
        });
        Assert.Equal("ok.", Encoding.ASCII.GetString(outcome.Console));
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(1UL, outcome.Board.Harts[0].Counters.Interrupts[(int)InterruptCause.MachineExternal]);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 3)]
    public void Htif_ToHost_PassOrFailWithTheTestNumber(int tohostValue, int exitCode)
    {
        var outcome = GuestProgram.Run(Assemble($$"""
            .globl _start
            _start:
                la t0, tohost
                li t1, {{tohostValue}}
                sd t1, 0(t0)
            1:  j 1b
                .data
                .align 3
            tohost: .dword 0
            fromhost: .dword 0
            """));
        Assert.Equal(StopReason.PoweredOff, outcome.Reason);
        Assert.Equal(exitCode, outcome.ExitCode);
    }

    [Fact]
    public void MisalignedLoad_Traps_WithTheAddressInMtval()
    {
        var outcome = GuestProgram.Run(Assemble("""
            .globl _start
            _start:
                la t0, handler
                csrw mtvec, t0
                li t1, 0x80001001
                ld t2, 0(t1)
            handler:
                csrr a0, mcause
                csrr a1, mtval
                li t0, 0x10000000
                sb a0, 0(t0)
                sb a1, 0(t0)
                li t0, 0x100000
                li t1, 0x5555
                sw t1, 0(t0)
            """));
        Assert.Equal(new byte[] { 4, 0x01 }, outcome.Console);
    }

    [Fact]
    public void JumpToUnmappedMemory_WithoutAHandler_IsReportedAsStuck()
    {
        var outcome = GuestProgram.Run(Assemble(".globl _start\n_start:\n    li t0, 0x5000\n    jr t0\n"));
        Assert.Equal(StopReason.Stuck, outcome.Reason);
        Assert.Equal((ulong)ExceptionCause.InstructionAccessFault, outcome.Board.Harts[0].LastTrap.Cause);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 }, "not an ELF file")]
    public void ElfLoader_RejectsWhatItCannotLoad_SayingWhy(byte[] bytes, string message)
    {
        Assert.Contains(message, Assert.Throws<ElfFormatException>(() => ElfLoader.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4, 1, "wrong ELF class 1")]
    [InlineData(5, 2, "wrong byte order 2")]
    [InlineData(18, 62, "wrong machine 62")]
    public void ElfLoader_NamesTheWrongField(int offset, byte value, string message)
    {
        var elf = Assemble(".globl _start\n_start: nop\n");
        elf[offset] = value;
        Assert.Contains(message, Assert.Throws<ElfFormatException>(() => ElfLoader.Parse(elf)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ElfLoader_RefusesSegmentsOutsideRam()
    {
        var image = ElfLoader.Parse(Assemble(".globl _start\n_start: nop\n.bss\n.zero 0x300000\n"));
        var board = new VirtBoard(new MachineConfig { MemoryBytes = 2UL << 20 });
        Assert.Contains("outside RAM", Assert.Throws<ElfFormatException>(() => board.Load(image)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SparseRam_AllocatesFramesOnlyOnWrite()
    {
        var ram = new SparseRam(0x8000_0000, 1UL << 30);
        Assert.Equal(0UL, ram.Read(0x8000_0000 + (512UL << 20), 8));
        Assert.Equal(0UL, ram.FramesTouched);
        for (ulong offset = 0; offset < 1 << 20; offset += 4096)
        {
            ram.Write(0x8000_0000 + offset, 8, offset);
        }
        Assert.Equal(256UL, ram.FramesTouched);
        Assert.Equal(4096UL, ram.Read(0x8000_1000, 8));
    }
}
