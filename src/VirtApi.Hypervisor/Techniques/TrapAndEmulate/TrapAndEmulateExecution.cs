using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Devices.Emulated;
using VirtApi.Hypervisor.Memory;
using VirtApi.Hypervisor.Snapshots;
using VirtApi.Hypervisor.Statistics;
using VirtApi.Hypervisor.Vm;
using VirtApi.Machine.Board;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Devices;
using VirtApi.Machine.Elf;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Memory;

namespace VirtApi.Hypervisor.Techniques.TrapAndEmulate;

/// <summary>
/// <c>trap-and-emulate</c> with <c>shadow</c> memory: the board is the host's hardware for this VM,
/// its RAM the machine memory (MA) the VMM hands out: guest frames through the P2M, and frames for
/// the shadow tables. The guest's RAM (GPA) starts at the same address as on the bare board, but its
/// frames land wherever the P2M puts them. The board's devices are the VMM's device models: the guest
/// reaches them only through traps.
/// </summary>
public sealed class TrapAndEmulateExecution : IGuestExecution
{
    private readonly VirtBoard _board;
    private readonly TrapAndEmulateVmm _vmm;
    private readonly P2mMap _p2m;
    private readonly MachineFramePool _tables;
    private readonly CostModel _cost;
    private readonly VmDevices _devices;

    private TrapAndEmulateExecution(VirtBoard board, TrapAndEmulateVmm vmm, P2mMap p2m, MachineFramePool tables, CostModel cost, VmDevices devices)
    {
        _board = board;
        _devices = devices;
        _vmm = vmm;
        _p2m = p2m;
        _tables = tables;
        _cost = cost;
        // HTIF writes the guest's fromhost at its machine address, past the shadows: the log-dirty
        // mode sees it only if the board says so.
        board.HtifWriteObserver = p2m.LogDirtyMachine;
    }

    /// <summary>Machine memory the VMM keeps for shadow tables, per hart: 2 MiB and 1/64 of guest RAM.</summary>
    private static ulong ShadowPoolBytes(ulong guestBytes, int harts) => (ulong)harts * ((2UL << 20) + (guestBytes / 64 & ~0xfffUL));

    public static TrapAndEmulateExecution Boot(VmSpec spec, IConsoleOutput console, CostModel cost)
    {
        var guestBytes = (ulong)spec.MemoryMiB << 20;
        var board = new VirtBoard(Config(spec));
        var ram = board.Bus.Ram;
        var p2m = new P2mMap(VirtBoard.RamBase, guestBytes, new MachineFramePool(ram, VirtBoard.RamBase, guestBytes));
        var tables = TablesPool(ram, spec);
        var counters = new VmmCounters();
        var image = ElfLoader.Parse(spec.Elf);
        ElfLoader.CheckFits(image, VirtBoard.RamBase, guestBytes);
        var devices = VmDevices.Attach(board, new P2mGuestMemory(p2m, ram), spec, console, null, counters, cost);
        var vmm = new TrapAndEmulateVmm(board.Harts, board, board.Bus, p2m, tables, Mmio(board, counters, cost, devices), counters, cost);
        BoardRun.Bind(board, spec, console);

        foreach (var segment in image.Segments)
        {
            LoadSegment(p2m, ram, segment.Address, segment.Data);
        }
        board.InstallFirmware(image, guestToMachine: address => p2m.TryTranslate(address, out var machine) ? machine : address);
        vmm.Start(BootRom.Address);
        return new TrapAndEmulateExecution(board, vmm, p2m, tables, cost, devices);
    }

    /// <summary>
    /// The VM a snapshot was taken of: the host board, the P2M over the same machine frames, the guest's
    /// pages in them, the virtual harts and counters; the shadow pool starts empty and the VMM re-enters
    /// the guest, so shadow tables are rebuilt by hidden faults as the guest touches its pages again.
    /// </summary>
    public static TrapAndEmulateExecution Restore(VmSpec spec, VmSnapshotState state, IEnumerable<GuestPage> pages, IConsoleOutput console, CostModel cost)
    {
        var saved = state.TrapAndEmulate ?? throw new SnapshotFormatException("the state has no trap-and-emulate VMM");
        var guestBytes = (ulong)spec.MemoryMiB << 20;
        var board = VirtBoard.Restore(Config(spec), state.Board);
        var ram = board.Bus.Ram;
        var p2m = P2mMap.Restore(new P2mMapArgs(VirtBoard.RamBase, guestBytes, new MachineFramePool(ram, VirtBoard.RamBase, guestBytes)), saved.P2m);
        foreach (var page in pages)
        {
            if (!p2m.TryLookup(page.Address, out var machine))
            {
                throw new SnapshotFormatException($"guest page 0x{page.Address:x} has no machine frame in the saved P2M");
            }
            ram.RestoreFrame(machine, page.Bytes);
        }
        var tables = TablesPool(ram, spec);
        var counters = VmmCounters.Restore(saved.Counters);
        var devices = VmDevices.Attach(board, new P2mGuestMemory(p2m, ram), spec, console, state.Devices, counters, cost);
        var vmm = TrapAndEmulateVmm.Restore(board.Harts, board, board.Bus, p2m, tables, Mmio(board, counters, cost, devices), counters, cost, saved);
        BoardRun.Bind(board, spec, console);
        vmm.Reenter();
        ram.ClearDirtyFrames();
        return new TrapAndEmulateExecution(board, vmm, p2m, tables, cost, devices);
    }

    /// <summary>The host board: guest RAM followed by the VMM's shadow pool.</summary>
    private static MachineConfig Config(VmSpec spec) => new() { HartCount = spec.Vcpus, MemoryBytes = MachineBytes(spec) };

    /// <summary>The machine memory a VM takes on its host: guest RAM and the VMM's shadow pool.</summary>
    internal static ulong MachineBytes(VmSpec spec)
    {
        var guestBytes = (ulong)spec.MemoryMiB << 20;
        return guestBytes + ShadowPoolBytes(guestBytes, spec.Vcpus);
    }

    private static MachineFramePool TablesPool(SparseRam ram, VmSpec spec)
    {
        var guestBytes = (ulong)spec.MemoryMiB << 20;
        return new MachineFramePool(ram, VirtBoard.RamBase + guestBytes, ShadowPoolBytes(guestBytes, spec.Vcpus));
    }

    /// <summary>The VMM's device emulation: the board's devices and the VM's, but for passthrough ones, which it maps instead.</summary>
    private static EmulatedMmio Mmio(VirtBoard board, VmmCounters counters, CostModel cost, VmDevices devices) =>
        new(board.Bus, BoardDevices().Concat(devices.Trapped()), counters, cost, devices.Passthrough());

    /// <summary>The emulated devices of the virt board by name, for the per-device counters.</summary>
    private static IEnumerable<(AddressRange, string)> BoardDevices() =>
    [
        (new AddressRange(VirtBoard.UartBase, Uart16550.Size), "uart0"),
        (new AddressRange(VirtBoard.ClintBase, Clint.Size), "clint"),
        (new AddressRange(VirtBoard.PlicBase, Plic.Size), "plic"),
        (new AddressRange(VirtBoard.TestFinisherBase, SifiveTest.Size), "test-finisher"),
        (new AddressRange(BootRom.Address, BootRom.Size), "boot-rom"),
    ];

    /// <summary>Copies a segment into the guest's frames: only frames with data are allocated, as on the sparse bare board.</summary>
    private static void LoadSegment(P2mMap p2m, SparseRam ram, ulong address, ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] != 0 && p2m.TryTranslate(address + (ulong)i, out var machine))
            {
                ram.Write(machine, 1, data[i]);
            }
        }
    }

    public ulong InstructionsRetired => _board.InstructionsRetired;

    public GuestRunResult Run(ulong maxInstructions) => BoardRun.Outcome(_board, _board.Run(maxInstructions));

    public int FeedConsole(ReadOnlySpan<byte> bytes) => _board.Uart.Receive(bytes);

    /// <summary>
    /// The guest's pages are its P2M's frames, saved by guest-physical address; the dirty log is the
    /// machine RAM's, mapped back through the P2M (frames of the VMM's shadow tables are not the guest's).
    /// </summary>
    public VmCapture Capture(SnapshotScope scope)
    {
        Dictionary<ulong, ulong>? toGuest = null;
        var pages = GuestMemoryCapture.Pages(
            _board.Bus.Ram,
            scope,
            _p2m.Mappings,
            machine =>
            {
                toGuest ??= _p2m.Mappings().ToDictionary(m => m.Machine, m => m.GuestPhysical);
                return toGuest.TryGetValue(machine, out var guest) ? guest : null;
            });
        return new VmCapture(SaveState(), pages, scope);
    }

    public VmSnapshotState SaveState() => new()
    {
        Format = SnapshotFormat.Version,
        CpuMode = CpuMode.TrapAndEmulate,
        Vcpus = _board.Harts.Count,
        GuestMemoryBytes = _p2m.GuestBytes,
        Board = _board.Save(),
        Devices = _devices.Set.Save(),
        TrapAndEmulate = _vmm.Save(),
    };

    /// <summary>The guest frames the P2M has given machine frames: every page the guest has touched.</summary>
    public IReadOnlyList<ulong> TouchedPages() => [.. _p2m.Mappings().Select(m => m.GuestPhysical)];

    public void ReadPage(ulong guestPhysical, Span<byte> destination)
    {
        var page = destination[..SparseRam.FrameSize];
        if (_p2m.TryLookup(guestPhysical, out var machine))
        {
            _board.Bus.Ram.ReadBytes(machine, page);
        }
        else
        {
            page.Clear();
        }
    }

    /// <summary>Dirty tracking in the P2M and the shadow tables (<see cref="TrapAndEmulateVmm.StartDirtyLog"/>).</summary>
    public void StartDirtyLog() => _vmm.StartDirtyLog();

    public IReadOnlyList<ulong> TakeDirtyLog() => _vmm.TakeDirtyLog();

    public void StopDirtyLog() => _vmm.StopDirtyLog();

    public VmStatistics CaptureStatistics()
    {
        var counters = _vmm.Counters;
        var byPrivilege = new ulong[4];
        foreach (var vhart in _vmm.VirtualHarts)
        {
            for (var level = 0; level < byPrivilege.Length; level++)
            {
                byPrivilege[level] += vhart.RetiredByPrivilege[level];
            }
            // Instructions since the last exit ran at the level the guest is at now.
            byPrivilege[(int)vhart.Privilege] += vhart.Hart.InstructionsRetired - vhart.InstretAccounted;
        }
        var machine = MachineStatistics.Capture(_board);
        var vmm = new VmmStatistics(
            counters.Traps,
            CounterNames.ByName<TrapClass>(counters.TrapsByClass),
            counters.ReflectedTraps,
            counters.EmulatedInstructions,
            counters.HiddenFaults,
            counters.GuestPageFaults,
            counters.ShadowFlushes,
            counters.ShadowInvalidations,
            counters.GuestPageWalks,
            counters.GuestWalkReferences,
            _p2m.FramesAllocated,
            _tables.InUse,
            [.. counters.Devices.Select(d => new DeviceStatistics(d.Key, _devices.ModelName(d.Key), d.Value.Exits, d.Value.Bytes))],
            _board.InstructionsRetired * _cost.GuestInstruction,
            counters.VmmCycles,
            counters.HostSecondsInVmm,
            counters.ServiceVmCycles,
            counters.DirtyLogFaults);
        return machine with
        {
            InstructionsByPrivilege = CounterNames.ByPrivilege(byPrivilege),
            TrapsByCause = CounterNames.ByName<Machine.Traps.ExceptionCause>(counters.ReflectedExceptions),
            InterruptsByCause = CounterNames.ByName<Machine.Traps.InterruptCause>(counters.ReflectedInterrupts),
            Vmm = vmm,
            Devices = _devices.Statistics(counters),
        };
    }

    public void Dispose() => _devices.Dispose();
}
