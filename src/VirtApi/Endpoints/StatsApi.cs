using Microsoft.AspNetCore.Http.HttpResults;
using VirtApi.Contracts;
using VirtApi.Hypervisor.Techniques;

namespace VirtApi.Endpoints;

/// <summary>What each counter of <c>GET /api/v1/vms/{id}/stats</c> means, so clients and graders need not guess.</summary>
public static class StatsApi
{
    private static readonly CpuMode[] All = [CpuMode.Native, CpuMode.TrapAndEmulate];
    private static readonly CpuMode[] Vmm = [CpuMode.TrapAndEmulate];

    /// <summary>One entry per counter of the stats response; a dictionary counter is one entry, its keys listed in the text.</summary>
    public static IReadOnlyList<StatDescriptor> Descriptors { get; } =
    [
        new("instructionsRetired", "instructions", "an instruction the guest completes: retired by the hart, or emulated by the VMM in its place", All),
        new("instructionsByPrivilege", "instructions", "as instructionsRetired, under the guest's privilege level at the time (machine, supervisor, user)", All),
        new("trapsByCause", "exceptions", "an exception taken by the guest: at the hart's trap entry (native) or when the VMM delivers it into the guest (kebab-case cause names)", All),
        new("interruptsByCause", "interrupts", "an interrupt taken by the guest, at trap entry or when the VMM delivers it", All),
        new("tlbHits", "lookups", "a translation the hart's 64-entry TLB answered (under a VMM, of the shadow tables)", All),
        new("tlbMisses", "lookups", "a translation the TLB did not hold", All),
        new("pageWalks", "walks", "a hardware Sv39 walk (of the guest's tables natively, of the shadow tables under a VMM)", All),
        new("framesTouched", "4 KiB frames", "a machine frame first written (guest memory, and under a VMM its tables too)", All),
        new("hostSecondsRunning", "seconds", "host time spent in the VM's run slices, VMM included", All),
        new("consoleBytes", "bytes", "a byte the guest wrote to its console", All),
        new("consoleBytesDropped", "bytes", "a console byte pushed out of the bounded buffer before a client read it", All),
        new("silentFailures", "accesses", "a deprivileged sstatus/mstatus access the hardware completed without a trap (x86-legacy profile only); counted by the hart, invisible to the VMM", All),
        new("vmm.traps", "traps", "entry into the VMM's trap handler", Vmm),
        new("vmm.trapsByCause", "traps", "entry into the VMM by class: csr, mret, sret, sfence-vma, wfi (privileged instructions), ecall, page-fault, interrupt, illegal-instruction, other-exception", Vmm),
        new("vmm.reflectedTraps", "traps", "an exception or interrupt the VMM delivered into the guest (virtual trap entry)", Vmm),
        new("vmm.emulatedInstructions", "instructions", "an instruction the VMM completed for the guest: a privileged instruction or a device-register access", Vmm),
        new("vmm.memory.hiddenFaults", "faults", "a page fault the guest never sees: the VMM filled a shadow entry from the guest's table and the P2M", Vmm),
        new("vmm.memory.dirtyLogFaults", "faults", "a store to a page a migration's log-dirty mode had mapped read-only: the VMM logged the page dirty and mapped it writable", Vmm),
        new("vmm.memory.guestPageFaults", "faults", "a page fault the guest's own table raises, reflected into the guest", Vmm),
        new("vmm.memory.shadowFlushes", "tables", "a whole shadow table dropped (sfence.vma without an address, table-pool pressure, or a migration\'s log-dirty mode write-protecting the guest)", Vmm),
        new("vmm.memory.shadowInvalidations", "entries", "one shadow entry dropped by sfence.vma with an address", Vmm),
        new("vmm.memory.guestPageWalks", "walks", "the VMM's software walk of a guest page table", Vmm),
        new("vmm.memory.guestWalkReferences", "PTE reads", "a guest page-table entry read by those walks", Vmm),
        new("vmm.memory.machineFramesAllocated", "4 KiB frames", "a machine frame the P2M took from the host for a guest frame, on first touch", Vmm),
        new("vmm.memory.shadowFrames", "4 KiB frames", "machine frames holding shadow tables now (a level, not a count)", Vmm),
        new("vmm.devices[].exits", "accesses", "a guest access to the device's registers, trapped and emulated by the VMM", Vmm),
        new("vmm.devices[].bytes", "bytes", "bytes moved by those accesses", Vmm),
        new("vmm.cost.guestCycles", "cycles", "estimated: guest instructions at CostModel:GuestInstruction each", Vmm),
        new("vmm.cost.vmmCycles", "cycles", "estimated: each VMM event at its CostModel cost (Trap, EmulatedInstruction, ReflectedTrap, HiddenFault, GuestWalkReference, ShadowFlush, ShadowInvalidation, DeviceExit, and a hosted host's split back-end work: BackEndBatch + BackEndRequest per request), added where it happens", Vmm),
        new("vmm.cost.hostSecondsInVmm", "seconds", "host time measured inside the VMM's trap handler", Vmm),
        new("vmm.cost.serviceVmCycles", "cycles", "estimated: a bare-metal host's split back-end work in its service VM, BackEndBatch per batch plus BackEndRequest per request, added when the back end completes a batch", Vmm),
        new("devices[].exits", "accesses", "a guest access to the VM device's registers, trapped and emulated by the VMM (emulated and split models)", Vmm),
        new("devices[].directAccesses", "accesses", "a register access that reached the device straight from a hart, counted at the device's window on the bus (passthrough; every device in native)", All),
        new("devices[].notifications", "writes", "a virtio QueueNotify write, counted by the transport", All),
        new("devices[].requests", "requests", "a virtio descriptor chain returned in the used ring, or an ATA command executed or aborted, counted by the device", All),
        new("devices[].bytes", "bytes", "payload moved between guest and medium, counted by the device as it moves it", All),
        new("devices[].interrupts", "interrupts", "the device raising its interrupt line, counted by the device", All),
        new("devices[].errors", "errors", "the device refusing the driver (virtio DEVICE_NEEDS_RESET, ATA ABRT), counted by the device", All),
        new("devices[].backEndCycles", "cycles", "estimated: the split back end's work for this device, added when it completes a batch (vmm or service-vm per devices[].backEnd)", Vmm),
    ];

    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/stats/descriptors", GetStatDescriptors)
            .WithName(nameof(GetStatDescriptors))
            .WithTags("Stats")
            .WithSummary("What each statistic means")
            .WithDescription("Every counter of GET /api/v1/vms/{id}/stats: its name (path in the response), unit, what increments it, and the CPU modes in which it can be non-zero. Counters never reset on read.");
        return app;
    }

    public static Ok<IReadOnlyList<StatDescriptor>> GetStatDescriptors() => TypedResults.Ok(Descriptors);
}
