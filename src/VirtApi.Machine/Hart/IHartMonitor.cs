using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>A trap as the hardware sees it at trap entry, before it vectors.</summary>
/// <param name="Cause">The mcause value (interrupt bit 63 set for interrupts).</param>
/// <param name="Tval">The trap value (faulting address, instruction bits …).</param>
/// <param name="Pc">The pc of the trapping instruction (or the one an interrupt preempts).</param>
/// <param name="From">The privilege level the hart was at.</param>
public readonly record struct TrapEvent(ulong Cause, ulong Tval, ulong Pc, PrivilegeLevel From)
{
    public bool IsInterrupt => (Cause >> 63) != 0;
}

/// <summary>
/// How a hypervisor watches and takes over a hart, the way real hardware vectors to a VMM's handler
/// (DESIGN.md: "the hart reports a trap or an exit through an interface the VMM implements"). The
/// machine never calls the VMM by name; a hart with no monitor pays one null check per event.
/// </summary>
public interface IHartMonitor
{
    /// <summary>
    /// Called at trap entry, after the hart counted the trap and before it vectors. Return true when
    /// the monitor handled the trap itself (for example emulated a privileged instruction and moved
    /// <see cref="Hart.Pc"/> past it): the hart then goes on from its current state without vectoring.
    /// </summary>
    bool OnTrap(Hart hart, in TrapEvent trap);

    /// <summary>An Sv39 walk that made <paramref name="memoryReferences"/> page-table reads for <paramref name="virtualAddress"/>.</summary>
    void OnPageWalk(Hart hart, ulong virtualAddress, int memoryReferences);
}
