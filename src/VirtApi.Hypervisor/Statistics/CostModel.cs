namespace VirtApi.Hypervisor.Statistics;

/// <summary>
/// Estimated cycles per event (DESIGN.md "Statistics: cost"), from <c>appsettings.json</c> section
/// <c>CostModel</c>. The VMM adds an event's cost where it handles the event; guest work is its retired
/// instructions at <see cref="GuestInstruction"/> each. The defaults are of the order Adams and Agesen
/// (ASPLOS 2006) measured for a software VMM: a trap and its return cost hundreds to thousands of cycles.
/// </summary>
public sealed record CostModel
{
    /// <summary>Cycles per retired guest instruction.</summary>
    public ulong GuestInstruction { get; init; } = 1;

    /// <summary>Entering the VMM and returning to the guest (saving and restoring state).</summary>
    public ulong Trap { get; init; } = 600;

    /// <summary>Decoding and emulating one privileged instruction.</summary>
    public ulong EmulatedInstruction { get; init; } = 150;

    /// <summary>Delivering a trap into the guest (virtual trap entry).</summary>
    public ulong ReflectedTrap { get; init; } = 200;

    /// <summary>Filling a shadow entry after a hidden fault (besides the guest walk).</summary>
    public ulong HiddenFault { get; init; } = 400;

    /// <summary>One memory reference of the VMM's software walk of a guest page table.</summary>
    public ulong GuestWalkReference { get; init; } = 30;

    /// <summary>Dropping a whole shadow table.</summary>
    public ulong ShadowFlush { get; init; } = 2000;

    /// <summary>Dropping one shadow entry.</summary>
    public ulong ShadowInvalidation { get; init; } = 100;

    /// <summary>Emulating one access to a device register.</summary>
    public ulong DeviceExit { get; init; } = 800;

    /// <summary>A split driver's back end taking one notification's batch (an event to the VMM or the service VM, and back).</summary>
    public ulong BackEndBatch { get; init; } = 1500;

    /// <summary>A split driver's back end serving one request of a batch.</summary>
    public ulong BackEndRequest { get; init; } = 300;

    /// <summary>The default model.</summary>
    public static CostModel Default { get; } = new();
}
