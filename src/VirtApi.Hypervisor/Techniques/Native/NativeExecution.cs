using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Elf;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Techniques.Native;

/// <summary>
/// <c>native</c>: the guest runs on the board's harts at its real privilege level with no VMM on any
/// path (DESIGN.md "CPU virtualization"). The VM is the machine; the counters are the machine's own.
/// </summary>
public sealed class NativeExecution : IGuestExecution
{
    private readonly VirtBoard _board;

    private NativeExecution(VirtBoard board) => _board = board;

    /// <summary>Builds the board for <paramref name="spec"/>, wires its UART to <paramref name="console"/> and loads the image.</summary>
    public static NativeExecution Boot(VmSpec spec, IConsoleOutput console)
    {
        var board = new VirtBoard(new MachineConfig
        {
            HartCount = spec.Vcpus,
            MemoryBytes = (ulong)spec.MemoryMiB << 20,
        });
        board.Uart.Sink = new UartToConsole(console);
        board.Load(ElfLoader.Parse(spec.Elf));
        return new NativeExecution(board);
    }

    public ulong InstructionsRetired => _board.InstructionsRetired;

    public GuestRunResult Run(ulong maxInstructions)
    {
        var result = _board.Run(maxInstructions);
        return result.Reason switch
        {
            StopReason.PoweredOff => new GuestRunResult(GuestRunOutcome.PoweredOff, result.ExitCode),
            StopReason.Reset => new GuestRunResult(GuestRunOutcome.Reset),
            StopReason.Idle => new GuestRunResult(GuestRunOutcome.Idle),
            StopReason.Stuck => new GuestRunResult(GuestRunOutcome.Crashed, Reason: StuckReason()),
            _ => new GuestRunResult(GuestRunOutcome.SliceDone),
        };
    }

    /// <summary>Why a stuck hart cannot go on, in the guest's terms (the trap it keeps taking).</summary>
    private string StuckReason()
    {
        var hart = _board.Harts.First(h => h.Stuck);
        var (cause, tval, pc) = hart.LastTrap;
        var name = (cause >> 63) != 0 ? $"interrupt {cause & 0xff}" : ((ExceptionCause)cause).ToString();
        return $"trap loop: hart {hart.Id} keeps taking {name} (tval 0x{tval:x}) at pc 0x{pc:x} without retiring an instruction; no usable trap handler";
    }

    public int FeedConsole(ReadOnlySpan<byte> bytes) => _board.Uart.Receive(bytes);

    public VmStatistics CaptureStatistics() => MachineStatistics.Capture(_board);

    private sealed class UartToConsole(IConsoleOutput console) : ISerialSink
    {
        public void Transmit(byte value) => console.Write(value);
    }
}
