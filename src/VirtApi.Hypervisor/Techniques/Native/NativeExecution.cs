using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Elf;

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
        foreach (var hart in board.Harts)
        {
            // The profile is the hardware's: under x86-legacy a U-mode program's sstatus accesses fail silently here too.
            hart.SilentStatusAccess = spec.CpuProfile == CpuProfile.X86Legacy;
        }
        board.Load(ElfLoader.Parse(spec.Elf));
        return new NativeExecution(board);
    }

    public ulong InstructionsRetired => _board.InstructionsRetired;

    public GuestRunResult Run(ulong maxInstructions) => BoardRun.Outcome(_board, _board.Run(maxInstructions));

    public int FeedConsole(ReadOnlySpan<byte> bytes) => _board.Uart.Receive(bytes);

    public VmStatistics CaptureStatistics() => MachineStatistics.Capture(_board);
}
