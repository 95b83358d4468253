using VirtApi.Hypervisor.Devices.Emulated;
using VirtApi.Hypervisor.Memory;
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

    private TrapAndEmulateExecution(VirtBoard board, TrapAndEmulateVmm vmm, P2mMap p2m, MachineFramePool tables, CostModel cost)
    {
        _board = board;
        _vmm = vmm;
        _p2m = p2m;
        _tables = tables;
        _cost = cost;
    }

    /// <summary>Machine memory the VMM keeps for shadow tables, per hart: 2 MiB and 1/64 of guest RAM.</summary>
    private static ulong ShadowPoolBytes(ulong guestBytes, int harts) => (ulong)harts * ((2UL << 20) + (guestBytes / 64 & ~0xfffUL));

    public static TrapAndEmulateExecution Boot(VmSpec spec, IConsoleOutput console, CostModel cost)
    {
        var guestBytes = (ulong)spec.MemoryMiB << 20;
        var tablesBytes = ShadowPoolBytes(guestBytes, spec.Vcpus);
        var board = new VirtBoard(new MachineConfig { HartCount = spec.Vcpus, MemoryBytes = guestBytes + tablesBytes });
        board.Uart.Sink = new UartToConsole(console);
        var ram = board.Bus.Ram;
        var p2m = new P2mMap(VirtBoard.RamBase, guestBytes, new MachineFramePool(ram, VirtBoard.RamBase, guestBytes));
        var tables = new MachineFramePool(ram, VirtBoard.RamBase + guestBytes, tablesBytes);
        var counters = new VmmCounters();
        var mmio = new EmulatedMmio(board.Bus, Devices(), counters, cost);
        var vmm = new TrapAndEmulateVmm(board.Harts, board, board.Bus, p2m, tables, mmio, counters, cost);
        foreach (var hart in board.Harts)
        {
            hart.SilentStatusAccess = spec.CpuProfile == CpuProfile.X86Legacy;
        }

        var image = ElfLoader.Parse(spec.Elf);
        ElfLoader.CheckFits(image, VirtBoard.RamBase, guestBytes);
        foreach (var segment in image.Segments)
        {
            LoadSegment(p2m, ram, segment.Address, segment.Data);
        }
        board.InstallFirmware(image, guestToMachine: address => p2m.TryTranslate(address, out var machine) ? machine : address);
        vmm.Start(BootRom.Address);
        return new TrapAndEmulateExecution(board, vmm, p2m, tables, cost);
    }

    /// <summary>The emulated devices of the virt board by name, for the per-device counters.</summary>
    private static IEnumerable<(AddressRange, string)> Devices() =>
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
            [.. counters.Devices.Select(d => new DeviceStatistics(d.Key, "emulated", d.Value.Exits, d.Value.Bytes))],
            _board.InstructionsRetired * _cost.GuestInstruction,
            counters.VmmCycles,
            counters.HostSecondsInVmm);
        return machine with
        {
            InstructionsByPrivilege = CounterNames.ByPrivilege(byPrivilege),
            TrapsByCause = CounterNames.ByName<Machine.Traps.ExceptionCause>(counters.ReflectedExceptions),
            InterruptsByCause = CounterNames.ByName<Machine.Traps.InterruptCause>(counters.ReflectedInterrupts),
            Vmm = vmm,
        };
    }
}
