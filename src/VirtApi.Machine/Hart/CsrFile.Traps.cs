using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

public sealed partial class CsrFile
{
    /// <summary>Priority order for simultaneous interrupts: MEI, MSI, MTI, SEI, SSI, STI (section 3.1.9).</summary>
    private static readonly int[] InterruptPriority = [11, 3, 7, 9, 1, 5];

    /// <summary>
    /// Trap entry (sections 3.1.6.1, 3.1.7, 4.1.1): to S when the trap comes from below M and is
    /// delegated, else to M; saves pc, cause, tval and the interrupt-enable stack, raises
    /// <paramref name="privilege"/> and returns the vector to continue at.
    /// </summary>
    public ulong EnterTrap(ref PrivilegeLevel privilege, ulong pc, ulong cause, ulong tval, bool interrupt)
    {
        var delegated = privilege != PrivilegeLevel.Machine && (((interrupt ? Mideleg : Medeleg) >> (int)cause) & 1) != 0;
        var causeValue = interrupt ? cause | (1UL << 63) : cause;
        var status = Mstatus;
        if (delegated)
        {
            Sepc = pc;
            Scause = causeValue;
            Stval = tval;
            status = (status & ~Spie) | ((status & StatusSie) != 0 ? Spie : 0);
            status &= ~StatusSie;
            status = (status & ~Spp) | (privilege == PrivilegeLevel.Supervisor ? Spp : 0);
            Mstatus = status;
            privilege = PrivilegeLevel.Supervisor;
            return Vector(Stvec, cause, interrupt);
        }
        Mepc = pc;
        Mcause = causeValue;
        Mtval = tval;
        status = (status & ~Mpie) | ((status & StatusMie) != 0 ? Mpie : 0);
        status &= ~StatusMie;
        status = (status & ~Mpp) | ((ulong)privilege << (int)MppShift);
        Mstatus = status;
        privilege = PrivilegeLevel.Machine;
        return Vector(Mtvec, cause, interrupt);
    }

    /// <summary>Direct: BASE. Vectored: BASE + 4 × cause, for interrupts only (section 3.1.7).</summary>
    private static ulong Vector(ulong tvec, ulong cause, bool interrupt) =>
        (tvec & ~3UL) + ((tvec & 3) == 1 && interrupt ? 4 * cause : 0);

    /// <summary>MRET (section 3.3.2): pops the M interrupt-enable stack, returns to MPP at mepc.</summary>
    public ulong ReturnFromMachine(ref PrivilegeLevel privilege)
    {
        var status = Mstatus;
        var previous = (PrivilegeLevel)((status & Mpp) >> (int)MppShift);
        status = (status & ~StatusMie) | ((status & Mpie) != 0 ? StatusMie : 0);
        status |= Mpie;
        status &= ~Mpp; // MPP ← U, the least-privileged mode
        if (previous != PrivilegeLevel.Machine)
        {
            status &= ~Mprv;
        }
        Mstatus = status;
        privilege = previous;
        return Mepc;
    }

    /// <summary>SRET (section 3.3.2): pops the S interrupt-enable stack, returns to SPP at sepc.</summary>
    public ulong ReturnFromSupervisor(ref PrivilegeLevel privilege)
    {
        var status = Mstatus;
        var previous = (status & Spp) != 0 ? PrivilegeLevel.Supervisor : PrivilegeLevel.User;
        status = (status & ~StatusSie) | ((status & Spie) != 0 ? StatusSie : 0);
        status |= Spie;
        status &= ~Spp;
        status &= ~Mprv;
        Mstatus = status;
        privilege = previous;
        return Sepc;
    }

    /// <summary>MRET is legal only in M-mode (section 3.3.2).</summary>
    public static bool MretAllowed(PrivilegeLevel privilege) => privilege == PrivilegeLevel.Machine;

    /// <summary>SRET is illegal in U-mode, and in S-mode when mstatus.TSR is set (section 3.1.6.5).</summary>
    public bool SretAllowed(PrivilegeLevel privilege) =>
        privilege == PrivilegeLevel.Machine || (privilege == PrivilegeLevel.Supervisor && (Mstatus & Tsr) == 0);

    /// <summary>WFI is illegal in U-mode, and in S-mode when mstatus.TW is set (section 3.3.3).</summary>
    public bool WfiAllowed(PrivilegeLevel privilege) =>
        privilege == PrivilegeLevel.Machine || (privilege == PrivilegeLevel.Supervisor && (Mstatus & Tw) == 0);

    /// <summary>SFENCE.VMA is illegal in U-mode, and in S-mode when mstatus.TVM is set (section 3.1.6.5).</summary>
    public bool SfenceVmaAllowed(PrivilegeLevel privilege) =>
        privilege == PrivilegeLevel.Machine || (privilege == PrivilegeLevel.Supervisor && (Mstatus & Tvm) == 0);

    /// <summary>
    /// The interrupt a hart at <paramref name="privilege"/> takes now among <paramref name="pending"/>
    /// (mip &amp; mie), or -1 (section 3.1.9): the highest-priority one of <see cref="Enabled"/>.
    /// </summary>
    public int SelectInterrupt(PrivilegeLevel privilege, ulong pending)
    {
        var ready = pending & Enabled(privilege);
        if (ready == 0)
        {
            return -1;
        }
        foreach (var cause in InterruptPriority)
        {
            if (((ready >> cause) & 1) != 0)
            {
                return cause;
            }
        }
        return -1;
    }

    /// <summary>
    /// The interrupts of <c>mie</c> a hart at <paramref name="privilege"/> would take if they were
    /// pending now: what a VMM lets through to the hardware while the guest runs.
    /// </summary>
    public ulong DeliverableInterrupts(PrivilegeLevel privilege) => Mie & Enabled(privilege) & InterruptBits;

    /// <summary>
    /// The interrupt bits globally enabled at <paramref name="privilege"/> (section 3.1.9): M-level
    /// ones below M or with MIE; delegated ones in U, or in S with SIE, never in M.
    /// </summary>
    private ulong Enabled(PrivilegeLevel privilege)
    {
        var machineEnabled = privilege != PrivilegeLevel.Machine || (Mstatus & StatusMie) != 0;
        var supervisorEnabled = privilege == PrivilegeLevel.User || (privilege == PrivilegeLevel.Supervisor && (Mstatus & StatusSie) != 0);
        return (machineEnabled ? ~Mideleg : 0) | (supervisorEnabled ? Mideleg : 0);
    }
}
