namespace VirtApi.Hypervisor.Vm;

/// <summary>
/// A VM's counters at one moment. Each is counted where the mechanism does the work (the hart's
/// retire and trap-entry paths, the TLB, the RAM's frame allocator) and copied here; none is
/// derived from another. Counters never reset on read: clients diff two reads.
/// </summary>
/// <param name="InstructionsRetired">Instructions retired by all harts.</param>
/// <param name="InstructionsByPrivilege">Retired instructions by the privilege level they ran at (machine, supervisor, user).</param>
/// <param name="TrapsByCause">The guest's own exceptions, by cause name, counted at trap entry.</param>
/// <param name="InterruptsByCause">Interrupts taken, by cause name, counted at trap entry.</param>
/// <param name="TlbHits">Software TLB hits.</param>
/// <param name="TlbMisses">Software TLB misses.</param>
/// <param name="PageWalks">Page-table walks performed.</param>
/// <param name="FramesTouched">Guest RAM frames (4 KiB) allocated because the guest wrote them.</param>
/// <param name="HostSecondsRunning">Host time spent running the guest, VMM included.</param>
/// <param name="SilentFailures">Deprivileged sstatus/mstatus accesses the hardware completed without a trap (x86-legacy).</param>
/// <param name="Vmm">What the VMM counted; null when no VMM is on the path (native).</param>
/// <param name="Devices">The VM's devices (beyond the board's own), each with its counters.</param>
public sealed record VmStatistics(
    ulong InstructionsRetired,
    IReadOnlyDictionary<string, ulong> InstructionsByPrivilege,
    IReadOnlyDictionary<string, ulong> TrapsByCause,
    IReadOnlyDictionary<string, ulong> InterruptsByCause,
    ulong TlbHits,
    ulong TlbMisses,
    ulong PageWalks,
    ulong FramesTouched,
    double HostSecondsRunning,
    ulong SilentFailures = 0,
    VmmStatistics? Vmm = null,
    IReadOnlyList<VmDeviceStatistics>? Devices = null)
{
    /// <summary>Before the first boot: every counter zero.</summary>
    public static VmStatistics Empty { get; } = new(0, new Dictionary<string, ulong>(), new Dictionary<string, ulong>(), new Dictionary<string, ulong>(), 0, 0, 0, 0, 0);
}

/// <summary>The VMM's counters at one moment (trap-and-emulate and the techniques after it).</summary>
/// <param name="Traps">Traps into the VMM.</param>
/// <param name="TrapsByCause">Traps by class: csr, mret, sret, sfence-vma, wfi, ecall, page-fault, interrupt, illegal-instruction, other-exception.</param>
/// <param name="ReflectedTraps">Exceptions and interrupts delivered into the guest.</param>
/// <param name="EmulatedInstructions">Privileged and device-access instructions the VMM completed for the guest.</param>
/// <param name="HiddenFaults">Shadow misses the VMM filled without the guest knowing.</param>
/// <param name="GuestPageFaults">Page faults the guest's own tables raised, reflected into it.</param>
/// <param name="ShadowFlushes">Whole shadow tables dropped (sfence.vma without an address, pool pressure).</param>
/// <param name="ShadowInvalidations">Single shadow entries dropped (sfence.vma with an address).</param>
/// <param name="GuestPageWalks">Software walks of the guest's page tables.</param>
/// <param name="GuestWalkReferences">Guest page-table entries those walks read.</param>
/// <param name="MachineFramesAllocated">Machine frames the P2M took from the host for guest memory.</param>
/// <param name="ShadowFrames">Machine frames holding shadow tables now.</param>
/// <param name="Devices">Device exits, per emulated device.</param>
/// <param name="GuestCycles">Estimated cycles of guest work (cost model).</param>
/// <param name="VmmCycles">Estimated cycles of VMM work (cost model, added per event).</param>
/// <param name="HostSecondsInVmm">Host time measured inside the VMM's handlers.</param>
/// <param name="DirtyLogFaults">Stores that faulted into the VMM only to log their page dirty for a migration.</param>
/// <param name="ServiceVmCycles">Estimated cycles of split back-end work the host's service VM did for this VM (bare-metal hosts).</param>
public sealed record VmmStatistics(
    ulong Traps,
    IReadOnlyDictionary<string, ulong> TrapsByCause,
    ulong ReflectedTraps,
    ulong EmulatedInstructions,
    ulong HiddenFaults,
    ulong GuestPageFaults,
    ulong ShadowFlushes,
    ulong ShadowInvalidations,
    ulong GuestPageWalks,
    ulong GuestWalkReferences,
    ulong MachineFramesAllocated,
    ulong ShadowFrames,
    IReadOnlyList<DeviceStatistics> Devices,
    ulong GuestCycles,
    ulong VmmCycles,
    double HostSecondsInVmm,
    ulong ServiceVmCycles = 0,
    ulong DirtyLogFaults = 0);

/// <summary>One device's counters.</summary>
/// <param name="Name">The device (uart0, clint, plic, test-finisher, boot-rom).</param>
/// <param name="Model">How it is virtualized (emulated).</param>
/// <param name="Exits">Register accesses that exited to the VMM.</param>
/// <param name="Bytes">Bytes those accesses moved.</param>
public sealed record DeviceStatistics(string Name, string Model, ulong Exits, ulong Bytes);

/// <summary>One of the VM's devices and what it did.</summary>
/// <param name="Name">The device (<c>ata0</c>, <c>virtio-blk1</c>, <c>uart1</c> …).</param>
/// <param name="Kind">console, block or net.</param>
/// <param name="Model">emulated, split or passthrough.</param>
/// <param name="BackEnd">Where a split device's back end runs: <c>vmm</c> (hosted host), <c>service-vm</c> (bare-metal host), <c>device</c> (native, no VMM); null for other models.</param>
/// <param name="Exits">Register accesses that exited to the VMM, counted by the VMM.</param>
/// <param name="DirectAccesses">Register accesses that reached the device with no VMM on the path, counted at the device.</param>
/// <param name="Notifications">Virtio available-buffer notifications.</param>
/// <param name="Requests">Requests the device completed (virtio chains, ATA commands).</param>
/// <param name="Bytes">Payload bytes moved between guest and medium.</param>
/// <param name="Interrupts">Interrupts the device raised.</param>
/// <param name="Errors">Times the device refused the driver.</param>
/// <param name="BackEndCycles">Estimated cycles of the split back end's work for this device.</param>
public sealed record VmDeviceStatistics(
    string Name,
    string Kind,
    string Model,
    string? BackEnd,
    ulong Exits,
    ulong DirectAccesses,
    ulong Notifications,
    ulong Requests,
    ulong Bytes,
    ulong Interrupts,
    ulong Errors,
    ulong BackEndCycles);
