using System.Collections.Immutable;
using VirtApi.Machine;

namespace VirtApi.Hypervisor.Statistics;

/// <summary>
/// What the VMM counted, each at the place the work happens: its trap handler (traps by class,
/// reflections, emulated instructions), its shadow MMU (hidden faults, true guest faults, flushes,
/// guest walks) and its device emulation (exits and bytes per device). Plain fields: only the VM's
/// worker thread runs the VMM.
/// </summary>
public sealed class VmmCounters
{
    /// <summary>Traps into the VMM, counted at entry to its handler.</summary>
    public ulong Traps { get; set; }

    /// <summary>Traps into the VMM, by class (see <see cref="TrapClass"/>).</summary>
    public ulong[] TrapsByClass { get; } = new ulong[Enum.GetValues<TrapClass>().Length];

    /// <summary>Guest exceptions delivered into the guest, by cause code.</summary>
    public ulong[] ReflectedExceptions { get; } = new ulong[16];

    /// <summary>Guest interrupts delivered into the guest, by cause code.</summary>
    public ulong[] ReflectedInterrupts { get; } = new ulong[16];

    public ulong ReflectedTraps { get; set; }

    public ulong EmulatedInstructions { get; set; }

    public ulong HiddenFaults { get; set; }

    public ulong GuestPageFaults { get; set; }

    public ulong ShadowFlushes { get; set; }

    public ulong ShadowInvalidations { get; set; }

    public ulong GuestPageWalks { get; set; }

    public ulong GuestWalkReferences { get; set; }

    /// <summary>Stores that faulted because log-dirty mode had mapped their clean page read-only, and logged it dirty.</summary>
    public ulong DirtyLogFaults { get; set; }

    /// <summary>Estimated cycles of VMM work, added per event from the <see cref="CostModel"/>.</summary>
    public ulong VmmCycles { get; set; }

    /// <summary>Estimated cycles of split back-end work charged to the host's service VM (bare-metal hosts).</summary>
    public ulong ServiceVmCycles { get; set; }

    /// <summary>Device exits per device name.</summary>
    public Dictionary<string, DeviceCounters> Devices { get; } = [];

    private Vm.HostTimer _hostTime;

    /// <summary>The counts so far, for a snapshot.</summary>
    public VmmCountersState Save() => new()
    {
        Traps = Traps,
        TrapsByClass = [.. TrapsByClass],
        ReflectedExceptions = [.. ReflectedExceptions],
        ReflectedInterrupts = [.. ReflectedInterrupts],
        ReflectedTraps = ReflectedTraps,
        EmulatedInstructions = EmulatedInstructions,
        HiddenFaults = HiddenFaults,
        GuestPageFaults = GuestPageFaults,
        ShadowFlushes = ShadowFlushes,
        ShadowInvalidations = ShadowInvalidations,
        GuestPageWalks = GuestPageWalks,
        GuestWalkReferences = GuestWalkReferences,
        VmmCycles = VmmCycles,
        ServiceVmCycles = ServiceVmCycles,
        DirtyLogFaults = DirtyLogFaults,
        Devices = Devices.ToImmutableSortedDictionary(d => d.Key, d => new DeviceCountersState(d.Value.Exits, d.Value.Bytes, d.Value.BackEndCycles), StringComparer.Ordinal),
    };

    /// <summary>Counters that go on from <paramref name="state"/>.</summary>
    public static VmmCounters Restore(VmmCountersState state)
    {
        var counters = new VmmCounters
        {
            Traps = state.Traps,
            ReflectedTraps = state.ReflectedTraps,
            EmulatedInstructions = state.EmulatedInstructions,
            HiddenFaults = state.HiddenFaults,
            GuestPageFaults = state.GuestPageFaults,
            ShadowFlushes = state.ShadowFlushes,
            ShadowInvalidations = state.ShadowInvalidations,
            GuestPageWalks = state.GuestPageWalks,
            GuestWalkReferences = state.GuestWalkReferences,
            VmmCycles = state.VmmCycles,
            ServiceVmCycles = state.ServiceVmCycles,
            DirtyLogFaults = state.DirtyLogFaults,
        };
        StateArrays.CopyInto(state.TrapsByClass, counters.TrapsByClass, nameof(state.TrapsByClass));
        StateArrays.CopyInto(state.ReflectedExceptions, counters.ReflectedExceptions, nameof(state.ReflectedExceptions));
        StateArrays.CopyInto(state.ReflectedInterrupts, counters.ReflectedInterrupts, nameof(state.ReflectedInterrupts));
        foreach (var (name, device) in state.Devices)
        {
            counters.Devices[name] = new DeviceCounters { Exits = device.Exits, Bytes = device.Bytes, BackEndCycles = device.BackEndCycles };
        }
        return counters;
    }

    /// <summary>The counters of the device named <paramref name="name"/>, created on first use.</summary>
    public DeviceCounters Device(string name)
    {
        if (!Devices.TryGetValue(name, out var device))
        {
            device = new DeviceCounters();
            Devices[name] = device;
        }
        return device;
    }

    /// <summary>Host time measured in the VMM's handlers.</summary>
    public double HostSecondsInVmm => _hostTime.Seconds;

    /// <summary>Ends one handler's host-time measurement begun with <see cref="Vm.HostTimer.Start"/>.</summary>
    public void AddHostTime(long started) => _hostTime.Stop(started);
}

/// <summary>One device's counters.</summary>
public sealed class DeviceCounters
{
    public ulong Exits { get; set; }

    public ulong Bytes { get; set; }

    /// <summary>Estimated cycles of a split back end's work for this device, wherever it was charged.</summary>
    public ulong BackEndCycles { get; set; }
}

/// <summary>Why the hart entered the VMM (DESIGN.md "Statistics: traps into the VMM").</summary>
public enum TrapClass
{
    /// <summary>A CSR instruction (privileged, or a counter the VMM virtualizes).</summary>
    Csr,
    Mret,
    Sret,
    SfenceVma,
    Wfi,

    /// <summary>An <c>ecall</c>: the guest's system call or SBI call, reflected into it.</summary>
    Ecall,

    /// <summary>A page fault: hidden (filled in the shadow), a true guest fault, or a device access.</summary>
    PageFault,

    /// <summary>An interrupt, reflected into the guest when it has it enabled.</summary>
    Interrupt,

    /// <summary>An instruction illegal at any privilege, reflected.</summary>
    IllegalInstruction,

    /// <summary>Any other exception (breakpoint, misaligned access, access fault), reflected.</summary>
    OtherException,
}
