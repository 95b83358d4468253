using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

namespace VirtApi.Contracts;

/// <summary>A VM to define. Only <c>name</c> and <c>imageId</c> are required.</summary>
public sealed record CreateVmRequest
{
    /// <summary>Unique name, a DNS label.</summary>
    /// <example>web-1</example>
    public string? Name { get; init; }

    /// <summary>The image to boot.</summary>
    public Guid? ImageId { get; init; }

    /// <summary>Virtual CPUs (harts), 1–8; default 1.</summary>
    /// <example>1</example>
    public int? Vcpus { get; init; }

    /// <summary>Guest memory in MiB, 1–4096, at least what the image loads; default 64. Charged to the host.</summary>
    /// <example>64</example>
    public int? MemoryMiB { get; init; }

    /// <summary>The host to place the VM on; default the host with the most free memory.</summary>
    public Guid? HostId { get; init; }

    /// <summary>CPU virtualization; default native on the riscv profile.</summary>
    public CpuConfig? Cpu { get; init; }

    /// <summary>Memory virtualization; default the first mode valid with the CPU mode.</summary>
    public MemoryConfig? Memory { get; init; }

    /// <summary>Instructions a run may retire before the VM is stopped with reason instruction-budget; default none.</summary>
    /// <example>100000000</example>
    public long? InstructionBudget { get; init; }

    /// <summary>
    /// Devices to attach, each as <c>POST /api/v1/vms/{id}/devices</c> takes it and checked the same
    /// way; all are attached or, if one is refused, no VM is created. Default none.
    /// </summary>
    public IReadOnlyList<AttachDeviceRequest>? Devices { get; init; }

    /// <summary>
    /// Clone: the new VM gets the snapshot's definition (image, vCPUs, memory, modes, budget, devices:
    /// leave them out) and its machine, and starts paused at the saved point (stopped, for a snapshot without a machine).
    /// </summary>
    public Guid? FromSnapshotId { get; init; }
}

/// <summary>Changes to a VM that is not running; absent fields stay as they are.</summary>
public sealed record UpdateVmRequest
{
    /// <summary>New unique name.</summary>
    public string? Name { get; init; }

    /// <summary>Virtual CPUs, 1–8.</summary>
    public int? Vcpus { get; init; }

    /// <summary>Guest memory in MiB, 1–4096.</summary>
    public int? MemoryMiB { get; init; }

    /// <summary>CPU virtualization.</summary>
    public CpuConfig? Cpu { get; init; }

    /// <summary>Memory virtualization.</summary>
    public MemoryConfig? Memory { get; init; }

    /// <summary>Instruction budget per run; 0 removes the limit.</summary>
    public long? InstructionBudget { get; init; }
}

/// <summary>How the VM's CPU is virtualized.</summary>
public sealed record CpuConfig
{
    /// <summary>native, trap-and-emulate, binary-translation, paravirtual or hardware-assisted.</summary>
    /// <example>native</example>
    public CpuMode? Mode { get; init; }

    /// <summary>riscv or x86-legacy.</summary>
    /// <example>riscv</example>
    public CpuProfile? Profile { get; init; }
}

/// <summary>How the VM's memory is virtualized.</summary>
public sealed record MemoryConfig
{
    /// <summary>direct, shadow, nested or paravirtual.</summary>
    /// <example>direct</example>
    public MemoryMode? Mode { get; init; }
}

/// <summary>A VM as the API shows it.</summary>
/// <param name="Id">The VM's id.</param>
/// <param name="Name">Unique name.</param>
/// <param name="ImageId">The image it boots.</param>
/// <param name="HostId">The host it is placed on.</param>
/// <param name="Vcpus">Virtual CPUs.</param>
/// <param name="MemoryMiB">Guest memory in MiB.</param>
/// <param name="Cpu">CPU virtualization.</param>
/// <param name="Memory">Memory virtualization.</param>
/// <param name="InstructionBudget">Instruction budget per run, or null.</param>
/// <param name="Devices">Its devices beyond the board's own, by slot.</param>
/// <param name="State">created, running, paused, stopped, crashed or migrating.</param>
/// <param name="StateReason">Why it is in that state (guest-power-off, instruction-budget, host-restart, a crash reason...).</param>
/// <param name="ExitCode">The guest's exit code after it powered off.</param>
/// <param name="AllowedActions">The lifecycle actions the state allows.</param>
/// <param name="InstructionsRetired">Instructions retired in the current or last run.</param>
/// <param name="CreatedAt">When it was defined.</param>
/// <param name="UpdatedAt">When its definition or state last changed.</param>
public sealed record VmResponse(
    Guid Id,
    string Name,
    Guid ImageId,
    Guid HostId,
    int Vcpus,
    int MemoryMiB,
    CpuConfigResponse Cpu,
    MemoryConfigResponse Memory,
    long? InstructionBudget,
    IReadOnlyList<VmDeviceResponse> Devices,
    VmState State,
    string? StateReason,
    int? ExitCode,
    IReadOnlyList<VmAction> AllowedActions,
    long InstructionsRetired,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>CPU virtualization of a VM.</summary>
/// <param name="Mode">The technique.</param>
/// <param name="Profile">The CPU profile.</param>
public sealed record CpuConfigResponse(CpuMode Mode, CpuProfile Profile);

/// <summary>Memory virtualization of a VM.</summary>
/// <param name="Mode">The technique.</param>
public sealed record MemoryConfigResponse(MemoryMode Mode);

/// <summary>A page of VMs.</summary>
/// <param name="Items">The VMs on this page, by name.</param>
/// <param name="Total">How many VMs match the filter.</param>
/// <param name="Offset">The first item's position.</param>
/// <param name="Limit">The page size asked for.</param>
public sealed record VmPage(IReadOnlyList<VmResponse> Items, int Total, int Offset, int Limit);

/// <summary>Console output from an offset.</summary>
/// <param name="Output">The bytes, as UTF-8 text or base64 (see encoding).</param>
/// <param name="Encoding">text or base64.</param>
/// <param name="Offset">Offset of the first byte returned (later than asked when older bytes were dropped).</param>
/// <param name="Next">The offset to ask from next.</param>
/// <param name="RunStart">Offset where the current or last run's output starts.</param>
/// <param name="Dropped">Bytes dropped in all because the buffer is bounded.</param>
/// <param name="Missed">Bytes between the asked offset and Offset that were dropped.</param>
public sealed record ConsoleOutputResponse(string Output, string Encoding, long Offset, long Next, long RunStart, long Dropped, long Missed);

/// <summary>Input for the guest's UART.</summary>
public sealed record ConsoleInputRequest
{
    /// <summary>The bytes to send, as text or base64.</summary>
    /// <example>hello\n</example>
    public string? Input { get; init; }

    /// <summary>text (default) or base64.</summary>
    /// <example>text</example>
    public string? Encoding { get; init; }
}

/// <summary>How much input the guest's receive FIFO took.</summary>
/// <param name="Accepted">Bytes taken; the rest did not fit the FIFO and can be sent again.</param>
public sealed record ConsoleInputResponse(int Accepted);

/// <summary>A VM's counters; they never reset on read, so diff two reads for a rate.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="State">Its state when read.</param>
/// <param name="InstructionsRetired">Instructions retired by all harts in the current or last run.</param>
/// <param name="InstructionsByPrivilege">By the privilege level they ran at: machine, supervisor, user.</param>
/// <param name="TrapsByCause">The guest's own exceptions by cause, counted at the hart's trap entry.</param>
/// <param name="InterruptsByCause">Interrupts taken by cause.</param>
/// <param name="TlbHits">Software TLB hits.</param>
/// <param name="TlbMisses">Software TLB misses.</param>
/// <param name="PageWalks">Page-table walks.</param>
/// <param name="FramesTouched">4 KiB guest frames allocated on first write.</param>
/// <param name="HostSecondsRunning">Host time spent running the guest.</param>
/// <param name="ConsoleBytes">Console bytes the guest wrote.</param>
/// <param name="ConsoleBytesDropped">Console bytes dropped by the bounded buffer.</param>
/// <param name="SilentFailures">Deprivileged sstatus/mstatus accesses the hardware completed without trapping (x86-legacy profile).</param>
/// <param name="Vmm">What the VMM did; null in native mode, where no VMM is on any path.</param>
/// <param name="Devices">The VM's devices (GET /api/v1/vms/{id}/devices) in its current or last run: exits, direct accesses, notifications, requests, bytes, and where a split back end ran.</param>
public sealed record VmStatsResponse(
    Guid VmId,
    VmState State,
    ulong InstructionsRetired,
    IReadOnlyDictionary<string, ulong> InstructionsByPrivilege,
    IReadOnlyDictionary<string, ulong> TrapsByCause,
    IReadOnlyDictionary<string, ulong> InterruptsByCause,
    ulong TlbHits,
    ulong TlbMisses,
    ulong PageWalks,
    ulong FramesTouched,
    double HostSecondsRunning,
    long ConsoleBytes,
    long ConsoleBytesDropped,
    ulong SilentFailures,
    VmmStatsResponse? Vmm,
    IReadOnlyList<VmDeviceStatistics> Devices);

/// <summary>The VMM's counters (see <c>GET /api/v1/stats/descriptors</c> for each one's meaning).</summary>
/// <param name="Traps">Traps into the VMM.</param>
/// <param name="TrapsByCause">By class: csr, mret, sret, sfence-vma, wfi (privileged instructions), ecall, page-fault, interrupt, illegal-instruction, other-exception.</param>
/// <param name="ReflectedTraps">Exceptions and interrupts the VMM delivered into the guest.</param>
/// <param name="EmulatedInstructions">Instructions the VMM completed for the guest (privileged ones and device accesses).</param>
/// <param name="Memory">Memory virtualization.</param>
/// <param name="Devices">Per emulated device.</param>
/// <param name="Cost">Estimated cycles and measured host time.</param>
public sealed record VmmStatsResponse(
    ulong Traps,
    IReadOnlyDictionary<string, ulong> TrapsByCause,
    ulong ReflectedTraps,
    ulong EmulatedInstructions,
    VmmMemoryStats Memory,
    IReadOnlyList<DeviceStatsResponse> Devices,
    VmmCostStats Cost);

/// <summary>Memory virtualization counters.</summary>
/// <param name="HiddenFaults">Shadow misses the VMM filled without the guest knowing.</param>
/// <param name="GuestPageFaults">Page faults of the guest's own tables, reflected into it.</param>
/// <param name="ShadowFlushes">Whole shadow tables dropped.</param>
/// <param name="ShadowInvalidations">Single shadow entries dropped.</param>
/// <param name="GuestPageWalks">The VMM's walks of guest page tables.</param>
/// <param name="GuestWalkReferences">Guest PTEs those walks read.</param>
/// <param name="MachineFramesAllocated">Machine frames the P2M took for guest memory.</param>
/// <param name="ShadowFrames">Machine frames holding shadow tables now.</param>
/// <param name="DirtyLogFaults">Stores that faulted only so a migration's log-dirty mode could log their page.</param>
public sealed record VmmMemoryStats(
    ulong HiddenFaults,
    ulong GuestPageFaults,
    ulong ShadowFlushes,
    ulong ShadowInvalidations,
    ulong GuestPageWalks,
    ulong GuestWalkReferences,
    ulong MachineFramesAllocated,
    ulong ShadowFrames,
    ulong DirtyLogFaults);

/// <summary>One device's counters.</summary>
/// <param name="Name">uart0, clint, plic, test-finisher, boot-rom, the VM's own devices (ata0, virtio-blk0 …), virtio-empty (probes of empty virtio slots).</param>
/// <param name="Model">emulated or split.</param>
/// <param name="Exits">Register accesses that exited to the VMM.</param>
/// <param name="Bytes">Bytes those accesses moved.</param>
public sealed record DeviceStatsResponse(string Name, string Model, ulong Exits, ulong Bytes);

/// <summary>Cost: estimated cycles from the cost model in appsettings.json, and measured host time.</summary>
/// <param name="GuestCycles">Estimated cycles of guest work.</param>
/// <param name="VmmCycles">Estimated cycles of VMM work, added per event.</param>
/// <param name="HostSecondsInVmm">Host time measured in the VMM's handlers (the rest of hostSecondsRunning ran guest code).</param>
/// <param name="ServiceVmCycles">Estimated cycles of split back-end work done for this VM by the host's service VM (bare-metal hosts; on hosted hosts it is in vmmCycles).</param>
public sealed record VmmCostStats(ulong GuestCycles, ulong VmmCycles, double HostSecondsInVmm, ulong ServiceVmCycles);

/// <summary>What one counter of the statistics means.</summary>
/// <param name="Name">Its path in the stats response (vmm.memory.hiddenFaults), or its family in /metrics.</param>
/// <param name="Unit">What it counts.</param>
/// <param name="Increments">What increments it, where the work happens.</param>
/// <param name="Modes">The CPU modes in which it can be non-zero.</param>
public sealed record StatDescriptor(string Name, string Unit, string Increments, IReadOnlyList<CpuMode> Modes);
