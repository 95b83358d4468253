using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Elf;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Techniques.Native;

/// <summary>
/// <c>native</c>: the guest runs on the board's harts at its real privilege level with no VMM on any
/// path (DESIGN.md "CPU virtualization"). The VM is the machine; the counters are the machine's own.
/// </summary>
public sealed class NativeExecution : IGuestExecution
{
    private readonly VirtBoard _board;
    private readonly VmDevices _devices;

    private NativeExecution(VirtBoard board, VmDevices devices)
    {
        _board = board;
        _devices = devices;
    }

    /// <summary>Builds the board for <paramref name="spec"/>, wires its UART to <paramref name="console"/> and loads the image.</summary>
    public static NativeExecution Boot(VmSpec spec, IConsoleOutput console)
    {
        var image = ElfLoader.Parse(spec.Elf);
        var board = new VirtBoard(Config(spec));
        BoardRun.Bind(board, spec, console);
        board.Load(image);
        return new NativeExecution(board, Devices(board, spec, console, null));
    }

    /// <summary>The board a snapshot was taken of, with its memory, bound to <paramref name="console"/>.</summary>
    public static NativeExecution Restore(VmSpec spec, VmSnapshotState state, IEnumerable<GuestPage> pages, IConsoleOutput console)
    {
        var board = VirtBoard.Restore(Config(spec), state.Board);
        BoardRun.Bind(board, spec, console);
        foreach (var page in pages)
        {
            board.Bus.Ram.RestoreFrame(page.Address, page.Bytes);
        }
        board.Bus.Ram.ClearDirtyFrames();
        return new NativeExecution(board, Devices(board, spec, console, state.Devices));
    }

    /// <summary>The VM's devices, simply on the bus: no VMM on any path, so every register access is direct.</summary>
    private static VmDevices Devices(VirtBoard board, VmSpec spec, IConsoleOutput console, DeviceSetState? state) =>
        VmDevices.Attach(board, new RamGuestMemory(board.Bus.Ram), spec, console, state, vmm: null, CostModel.Default);

    private static MachineConfig Config(VmSpec spec) => new()
    {
        HartCount = spec.Vcpus,
        MemoryBytes = (ulong)spec.MemoryMiB << 20,
    };

    public ulong InstructionsRetired => _board.InstructionsRetired;

    public GuestRunResult Run(ulong maxInstructions) => BoardRun.Outcome(_board, _board.Run(maxInstructions));

    public int FeedConsole(ReadOnlySpan<byte> bytes) => _board.Uart.Receive(bytes);

    public VmStatistics CaptureStatistics() => MachineStatistics.Capture(_board) with { Devices = _devices.Statistics(vmm: null) };

    public void Dispose() => _devices.Dispose();

    /// <summary>Guest-physical is the machine's address here: RAM's frames and its dirty log are the guest's own.</summary>
    public VmCapture Capture(SnapshotScope scope) => new(
        SaveState(),
        GuestMemoryCapture.Pages(_board.Bus.Ram, scope, () => _board.Bus.Ram.TouchedFrames().Select(f => (f.Address, f.Address)), address => address),
        scope);

    public VmSnapshotState SaveState() => new()
    {
        Format = SnapshotFormat.Version,
        CpuMode = CpuMode.Native,
        Vcpus = _board.Harts.Count,
        GuestMemoryBytes = _board.Bus.Ram.Size,
        Board = _board.Save(),
        Devices = _devices.Set.Save(),
    };

    public IReadOnlyList<ulong> TouchedPages() => [.. _board.Bus.Ram.TouchedFrames().Select(f => f.Address)];

    public void ReadPage(ulong guestPhysical, Span<byte> destination) => _board.Bus.Ram.ReadBytes(guestPhysical, destination[..SparseRam.FrameSize]);

    /// <summary>
    /// With no VMM, the dirty log is the machine's store path (RAM's own log, which every store, DMA and
    /// HTIF write passes through); it is the same log a diff snapshot uses.
    /// </summary>
    public void StartDirtyLog() => _board.Bus.Ram.ClearDirtyFrames();

    public IReadOnlyList<ulong> TakeDirtyLog() => _board.Bus.Ram.TakeDirtyFrames();

    /// <summary>RAM's store path logs always; nothing to switch off.</summary>
    public void StopDirtyLog()
    {
    }
}
