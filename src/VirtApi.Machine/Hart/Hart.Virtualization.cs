using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>
/// What a VMM running in the (unmodelled) M-mode above a deprivileged guest does to the hart: enter
/// the guest, finish an instruction it emulated, park the hart in <c>wfi</c> for the guest, and
/// re-evaluate interrupts and translation after it changed the real CSRs. These are the effects of
/// instructions the VMM would execute itself (xRET, CSR writes, <c>sfence.vma</c>), given as calls.
/// </summary>
public sealed partial class Hart
{
    // Instructions the monitor completed on the guest's behalf during the current Run call.
    private ulong _completedByMonitor;

    /// <summary>Continues at <paramref name="pc"/> in <paramref name="privilege"/>, as an xRET into it would.</summary>
    public void Resume(PrivilegeLevel privilege, ulong pc)
    {
        Privilege = privilege;
        Pc = pc;
        _reservation = NoReservation;
        UpdateInterruptReady();
    }

    /// <summary>
    /// The monitor emulated the instruction at <see cref="Pc"/>: it retires, as it would have had it
    /// executed (so <c>instret</c> and virtual time count it), and the hart goes on at <paramref name="nextPc"/>.
    /// </summary>
    public void CompleteInstruction(ulong nextPc)
    {
        Pc = nextPc;
        Counters.RetiredByPrivilege[(int)Privilege]++;
        InstructionsRetired++;
        _completedByMonitor++;
        _trapsWithoutProgress = 0;
    }

    /// <summary>Instructions a monitor completed since the last call: they retired inside a trap, so the run loop adds them to its count.</summary>
    private ulong TakeCompletedByMonitor()
    {
        var completed = _completedByMonitor;
        _completedByMonitor = 0;
        return completed;
    }

    /// <summary>Waits as <c>wfi</c> does: until an interrupt of <c>mie</c> is pending, whatever the global enables (section 3.3.3).</summary>
    public void WaitForInterrupt() => Waiting = (Csrs.Mip & Csrs.Mie) == 0;

    /// <summary>The monitor changed CSRs directly: recompute the timer lines, pending interrupts and translation mode.</summary>
    public void CsrsChanged() => UpdateTimers();

    /// <summary>As <c>sfence.vma</c> in M-mode: forget cached translations, of one page or all.</summary>
    public void FlushTranslations(ulong? address = null)
    {
        FlushTlb(address, null);
        DropFetchCache();
    }
}
