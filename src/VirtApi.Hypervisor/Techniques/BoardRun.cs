using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Techniques;

/// <summary>What every technique does with the board it runs a guest on: its UART wired to the VM's console, its harts' CPU profile, and its run outcome.</summary>
internal static class BoardRun
{
    /// <summary>What the host binds to a board: the console, and the CPU profile of its harts.</summary>
    public static void Bind(VirtBoard board, VmSpec spec, IConsoleOutput console)
    {
        board.Uart.Sink = new UartToConsole(console);
        foreach (var hart in board.Harts)
        {
            // The profile is the hardware's: under x86-legacy a deprivileged sstatus access fails
            // silently, natively (a U-mode program) as under a VMM (the guest's kernel).
            hart.SilentStatusAccess = spec.CpuProfile == CpuProfile.X86Legacy;
        }
    }

    /// <summary>The guest's outcome of one <see cref="VirtBoard.Run"/>.</summary>
    public static GuestRunResult Outcome(VirtBoard board, RunResult result) => result.Reason switch
    {
        StopReason.PoweredOff => new GuestRunResult(GuestRunOutcome.PoweredOff, result.ExitCode),
        StopReason.Reset => new GuestRunResult(GuestRunOutcome.Reset),
        StopReason.Idle => new GuestRunResult(GuestRunOutcome.Idle),
        StopReason.Stuck => new GuestRunResult(GuestRunOutcome.Crashed, Reason: StuckReason(board)),
        _ => new GuestRunResult(GuestRunOutcome.SliceDone),
    };

    /// <summary>Why a stuck hart cannot go on, in the guest's terms (the trap it keeps taking).</summary>
    private static string StuckReason(VirtBoard board)
    {
        var hart = board.Harts.First(h => h.Stuck);
        var (cause, tval, pc) = hart.LastTrap;
        var name = (cause >> 63) != 0 ? $"interrupt {cause & 0xff}" : ((ExceptionCause)cause).ToString();
        return $"trap loop: hart {hart.Id} keeps taking {name} (tval 0x{tval:x}) at pc 0x{pc:x} without retiring an instruction; no usable trap handler";
    }
}

/// <summary>Sends a board's UART output to the VM's console.</summary>
internal sealed class UartToConsole(IConsoleOutput console) : ISerialSink
{
    public void Transmit(byte value) => console.Write(value);
}
