using System.Text.Json;
using VirtApi.Assembler;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Memory;
using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Tests.State;

/// <summary>
/// Save → serialize → restore → save gives the same state for each component (Firecracker's
/// <c>test_persistence</c>), restoring drives the lines that follow from the state, and RAM frames
/// go out and back in.
/// </summary>
public sealed class PersistenceTests
{
    private static T ThroughJson<T>(T state) => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(state, SavedMachine.Json), SavedMachine.Json)!;

    private static void AssertSame<T>(T expected, T actual) =>
        Assert.Equal(JsonSerializer.Serialize(expected, SavedMachine.Json), JsonSerializer.Serialize(actual, SavedMachine.Json));

    private sealed class Line : IInterruptLine
    {
        public bool? Level { get; private set; }

        public void SetLevel(bool level) => Level = level;
    }

    private sealed class Pins : IInterruptPins
    {
        public Dictionary<int, bool> Levels { get; } = [];

        public void SetPending(int mipBit, bool level) => Levels[mipBit] = level;
    }

    private sealed class Platform(int harts) : IClintPlatform
    {
        public ulong Time => 0;

        public int HartCount => harts;

        public void SoftwareInterrupt(int hart, bool level)
        {
        }

        public void TimerCompareChanged(int hart)
        {
        }
    }

    private sealed class Host : ICsrHost
    {
        public ulong InstructionsRetired => 0;

        public ulong Time => 0;

        public void TimersChanged()
        {
        }
    }

    [Fact]
    public void CsrFile_SavedAndRestored_HoldsEveryValue()
    {
        var csrs = new CsrFile(3);
        var host = new Host();
        foreach (var (csr, value) in new (int, ulong)[] { (0x300, CsrFile.Mpie | CsrFile.Sum), (0x302, 0xb1ff), (0x303, 0x222), (0x304, 0xaaa), (0x305, 0x8000_0101), (0x105, 0x8000_0200), (0x340, 1), (0x140, 2), (0x341, 0x10), (0x141, 0x20), (0x342, 5), (0x142, 8), (0x343, 9), (0x143, 10), (0x180, (8UL << 60) | 0x80123), (0x306, 7), (0x106, 5), (0x30A, 1UL << 63), (0x14D, 777), (0x320, 4), (0x344, 1 << 1), (0x3A0, 0x1f), (0x3B0, 0x1234), (0x3EF, 0x5678) })
        {
            Assert.True(csrs.TryWrite(csr, PrivilegeLevel.Machine, host, value), $"csr {csr:x}");
        }
        csrs.MipPlatform = 1UL << 11;
        var saved = csrs.Save();

        var restored = CsrFile.Restore(new CsrFileArgs(3), ThroughJson(saved));

        AssertSame(saved, restored.Save());
        Assert.True(restored.TryRead(0xF14, PrivilegeLevel.Machine, host, out var hartId) && hartId == 3);
        Assert.Equal(csrs.Mip, restored.Mip);
    }

    [Fact]
    public void Clint_SavedAndRestored_KeepsMsipAndTimerCompare()
    {
        var clint = new Clint(new Platform(2));
        Assert.True(clint.Write(4, 4, 1));
        Assert.True(clint.Write(0x4000, 8, 12_345));
        var saved = clint.Save();

        var restored = Clint.Restore(new ClintArgs(new Platform(2)), ThroughJson(saved));

        AssertSame(saved, restored.Save());
        Assert.True(restored.Read(4, 4, out var msip) && msip == 1);
        Assert.Equal([12_345UL, ulong.MaxValue], restored.TimerCompare);
    }

    [Fact]
    public void Plic_Restored_DrivesTheHartsLines_AsTheyWereWhenSaved()
    {
        var harts = new[] { new Pins(), new Pins() };
        var plic = new Plic(harts);
        Assert.True(plic.Write(10 * 4, 4, 3));                           // priority of source 10
        Assert.True(plic.Write(0x2000 + (0x80 * 3), 4, 1 << 10));        // hart 1, S context
        Assert.True(plic.Write(0x2000 + (0x80 * 0), 4, 1 << 10));        // hart 0, M context
        Assert.True(plic.Write(0x20_0000, 4, 5));                        // hart 0 M threshold above the priority
        plic.Source(10).SetLevel(true);
        Assert.True(harts[1].Levels[9]);
        Assert.False(harts[0].Levels[11]);
        var saved = plic.Save();

        var restoredHarts = new[] { new Pins(), new Pins() };
        var restored = Plic.Restore(new PlicArgs(restoredHarts), ThroughJson(saved));

        AssertSame(saved, restored.Save());
        Assert.Equal(harts[0].Levels, restoredHarts[0].Levels);
        Assert.Equal(harts[1].Levels, restoredHarts[1].Levels);
        // The gateway goes on as it would have: hart 1's S context claims source 10.
        Assert.True(restored.Read(0x20_0000 + (0x1000 * 3) + 4, 4, out var claimed) && claimed == 10);
        Assert.False(restoredHarts[1].Levels[9]);
    }

    [Fact]
    public void Uart_Restored_KeepsItsFifoAndRegisters_AndDrivesItsLineAsSaved()
    {
        var uart = new Uart16550(new Line());
        Assert.True(uart.Write(3, 1, 0x03));
        Assert.True(uart.Write(7, 1, 0x5a));
        Assert.True(uart.Write(1, 1, 0x03));    // received data and THR empty
        Assert.Equal(4, uart.Receive("abcd"u8));
        Assert.True(uart.Read(0, 1, out var first) && first == 'a');
        var saved = uart.Save();

        var line = new Line();
        var restored = Uart16550.Restore(new UartArgs(line), ThroughJson(saved));

        AssertSame(saved, restored.Save());
        Assert.True(line.Level);
        Assert.Equal(3, restored.PendingInput);
        Assert.True(restored.Read(0, 1, out var next) && next == 'b');
        Assert.True(restored.Read(7, 1, out var scratch) && scratch == 0x5a);
    }

    [Fact]
    public void Uart_RestoredWithNothingToSay_LowersItsLine()
    {
        var line = new Line();
        Uart16550.Restore(new UartArgs(line), new Uart16550(new Line()).Save());
        Assert.False(line.Level);
    }

    [Fact]
    public void Board_SavedAndRestored_SavesTheSameState_AndRejectsAnotherHartCount()
    {
        var machine = TestMachine.Boot(GuestCatalogElf("demo-kernel"), harts: 2);
        Assert.Equal(StopReason.InstructionLimit, machine.Board.Run(250_000).Reason);
        Assert.Equal(2, machine.Board.Uart.Receive("xy"u8));
        var saved = machine.Board.Save();

        var restored = VirtBoard.Restore(TestMachine.Config(2), ThroughJson(saved));

        AssertSame(saved, restored.Save());
        Assert.Throws<ArgumentException>(() => VirtBoard.Restore(TestMachine.Config(1), saved));
    }

    [Fact]
    public void Ram_TouchedFrames_AreTheWrittenOnes_AndRestoreFrameLoadsThemBack()
    {
        var ram = new SparseRam(0x8000_0000, 1 << 20);
        ram.Write(0x8000_3ff8, 8, 0x1122_3344_5566_7788);    // one frame
        ram.Write(0x8000_1000, 1, 0);                        // a frame written with zero is touched
        Assert.Equal(0UL, ram.Read(0x8000_2000, 8));         // reading allocates nothing
        var frames = ram.TouchedFrames().Select(f => (f.Address, Bytes: f.Frame.ToArray())).ToList();
        Assert.Equal([0x8000_1000UL, 0x8000_3000UL], frames.Select(f => f.Address));

        var copy = new SparseRam(0x8000_0000, 1 << 20);
        foreach (var (address, bytes) in frames)
        {
            copy.RestoreFrame(address, bytes);
        }

        Assert.Equal(2UL, copy.FramesTouched);
        Assert.Equal(0x1122_3344_5566_7788UL, copy.Read(0x8000_3ff8, 8));
        Assert.Equal(frames.Select(f => f.Address), copy.TouchedFrames().Select(f => f.Address));
        Assert.Throws<ArgumentOutOfRangeException>(() => copy.RestoreFrame(0x8000_0800, new byte[SparseRam.FrameSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => copy.RestoreFrame(0x8010_0000, new byte[SparseRam.FrameSize]));
        Assert.Throws<ArgumentException>(() => copy.RestoreFrame(0x8000_0000, new byte[16]));
    }

    [Fact]
    public void RestoreFrame_OverCodeAHartHasDecoded_RunsTheRestoredCode()
    {
        // The loop's `li a0, 1` is replaced, in a saved frame, by `li a0, 2`: a board that already ran
        // (and decoded) the loop must run the restored bytes.
        var one = Assemble(".globl _start\n_start:\n1:  li a0, 1\n    j 1b\n");
        var machine = TestMachine.Boot(one);
        Assert.Equal(StopReason.InstructionLimit, machine.Board.Run(5_000).Reason);
        Assert.Equal(1UL, machine.Board.Harts[0][10]);
        var (address, frame) = machine.Board.Bus.Ram.TouchedFrames().Single();
        var two = TestMachine.Boot(Assemble(".globl _start\n_start:\n1:  li a0, 2\n    j 1b\n"));
        var (_, twoFrame) = two.Board.Bus.Ram.TouchedFrames().Single();

        machine.Board.Bus.Ram.RestoreFrame(address, twoFrame.Span);
        Assert.Equal(StopReason.InstructionLimit, machine.Board.Run(5_000).Reason);

        Assert.Equal(2UL, machine.Board.Harts[0][10]);
    }

    private static byte[] Assemble(string source)
    {
        var result = RiscVAssembler.Assemble(source);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }

    private static byte[] GuestCatalogElf(string name)
    {
        var result = RiscVAssembler.Assemble(VirtApi.Guests.GuestCatalog.Find(name)!.Source, new AssemblerOptions { FileName = name + ".S" });
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Elf;
    }
}
