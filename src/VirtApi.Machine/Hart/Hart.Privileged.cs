using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

public sealed partial class Hart
{
    private bool _interruptReady;
    private bool _paging;
    private ulong _timerCheckAt;

    // ---- SYSTEM instructions (privileged spec chapter 3.3, unprivileged chapter 9) --------------------

    private bool ExecuteSystem(uint inst, int rd, int rs1, uint funct3, ulong pc)
    {
        if (funct3 == 0)
        {
            switch (inst)
            {
                case 0x00000073: // ECALL
                    return RaiseException(Privilege switch
                    {
                        PrivilegeLevel.User => ExceptionCause.EnvironmentCallFromU,
                        PrivilegeLevel.Supervisor => ExceptionCause.EnvironmentCallFromS,
                        _ => ExceptionCause.EnvironmentCallFromM,
                    }, 0);
                case 0x00100073: // EBREAK
                    return RaiseException(ExceptionCause.Breakpoint, pc);
                case 0x30200073: // MRET
                    if (!CsrFile.MretAllowed(Privilege))
                    {
                        return Illegal(inst);
                    }
                    ReturnFromMachine();
                    return true;
                case 0x10200073: // SRET
                    if (!Csrs.SretAllowed(Privilege))
                    {
                        return Illegal(inst);
                    }
                    ReturnFromSupervisor();
                    return true;
                case 0x10500073: // WFI
                    if (!Csrs.WfiAllowed(Privilege))
                    {
                        return Illegal(inst);
                    }
                    Pc = pc + _length;
                    // Wait only if nothing enabled is pending already (mip & mie, whatever the global enables).
                    Waiting = (Csrs.Mip & Csrs.Mie) == 0;
                    return true;
                default:
                    if ((inst & 0xfe007fff) == 0x12000073) // SFENCE.VMA
                    {
                        if (!Csrs.SfenceVmaAllowed(Privilege))
                        {
                            return Illegal(inst);
                        }
                        FlushTlb(rs1 != 0 ? _x[rs1] : null, ((inst >> 20) & 0x1f) != 0 ? _x[(inst >> 20) & 0x1f] : null);
                        DropFetchCache();
                        Pc = pc + _length;
                        return true;
                    }
                    return Illegal(inst);
            }
        }
        if (funct3 == 4)
        {
            return Illegal(inst);
        }
        var csr = (int)(inst >> 20);
        var source = funct3 >= 5 ? (ulong)rs1 : _x[rs1];
        var op = funct3 & 3;
        // CSRRS/CSRRC with x0 (or a zero immediate) only read: no write side effects (section 9.1).
        var writes = op == 1 || rs1 != 0;
        if (Privilege == PrivilegeLevel.User && SilentStatusAccess && csr is 0x100 or 0x300)
        {
            return SilentStatusAccessed(csr, op, writes, source, rd, pc);
        }
        if (!CsrFile.MayAccess(csr, Privilege, writes) || !Csrs.TryRead(csr, Privilege, this, out var old))
        {
            return Illegal(inst);
        }
        if (writes)
        {
            var value = CsrFile.Written(op, old, source);
            if (!Csrs.TryWrite(csr, Privilege, this, value))
            {
                return Illegal(inst);
            }
            if (CsrFile.AffectsInterruptsOrTranslation(csr))
            {
                UpdateInterruptReady();
            }
        }
        if (rd != 0)
        {
            _x[rd] = old;
        }
        Pc = pc + _length;
        return true;
    }

    /// <summary>
    /// The <c>x86-legacy</c> profile (DESIGN.md "CPU profile"): like POPF/PUSHF in ring 1 on pre-2005
    /// x86, a U-mode access to sstatus/mstatus does not trap. The read shows the real register, whose
    /// interrupt-enable bits are set because a VMM keeps interrupts enabled while its guest runs; a
    /// write changes the other writable bits and drops the interrupt-enable ones. Counted here, in the
    /// hardware: a VMM never sees it.
    /// </summary>
    private bool SilentStatusAccessed(int csr, ulong op, bool writes, ulong source, int rd, ulong pc)
    {
        var c = Csrs;
        var view = csr == 0x100 ? CsrFile.SstatusMask : ulong.MaxValue;
        var old = c.Mstatus & view;
        if (writes)
        {
            var value = CsrFile.Written(op, old, source);
            var writable = view & CsrFile.MstatusWritable & ~(CsrFile.StatusSie | CsrFile.StatusMie);
            c.Mstatus = (c.Mstatus & ~writable) | (value & writable);
            // SUM, MXR or MPRV may have changed: translation goes on in the context they make now.
            SelectTranslationContext();
        }
        Counters.SilentFailures++;
        if (rd != 0)
        {
            _x[rd] = old;
        }
        Pc = pc + _length;
        return true;
    }

    /// <summary>
    /// The CPU profile's analogue of pre-2005 x86: U-mode sstatus/mstatus accesses complete silently
    /// instead of trapping (see <see cref="SilentStatusAccessed"/>). Off: every access traps (RISC-V).
    /// </summary>
    public bool SilentStatusAccess { get; set; }

    ulong ICsrHost.InstructionsRetired => InstructionsRetired;

    ulong ICsrHost.Time => _platform.Time(this);

    void ICsrHost.TimersChanged() => UpdateTimers();

    // ---- trap entry and return (section 3.1.6.1, 3.1.7, 3.1.9) ------------------------------------

    /// <summary>Takes an exception: counted here, at trap entry. Returns false (the instruction did not retire).</summary>
    private bool RaiseException(ExceptionCause cause, ulong tval)
    {
        Counters.Exceptions[(int)cause]++;
        TakeTrap((ulong)cause, tval, interrupt: false);
        return false;
    }

    private void TakeTrap(ulong cause, ulong tval, bool interrupt)
    {
        _trapsWithoutProgress++;
        LastTrap = (interrupt ? cause | (1UL << 63) : cause, tval, Pc);
        if (Monitor is { } monitor && monitor.OnTrap(this, new TrapEvent(interrupt ? cause | (1UL << 63) : cause, tval, Pc, Privilege)))
        {
            // The monitor took the trap (the VMM emulated or answered it): no vectoring. Progress is
            // still only a retired instruction (CompleteInstruction counts one), so a guest the VMM
            // keeps reflecting faults into is caught as stuck, as it would be on the bare machine.
            UpdateInterruptReady();
            return;
        }
        var privilege = Privilege;
        Pc = Csrs.EnterTrap(ref privilege, Pc, cause, tval, interrupt);
        Privilege = privilege;
        _reservation = NoReservation;
        UpdateInterruptReady();
    }

    private void ReturnFromMachine()
    {
        var privilege = Privilege;
        Pc = Csrs.ReturnFromMachine(ref privilege);
        Privilege = privilege;
        _reservation = NoReservation;
        UpdateInterruptReady();
    }

    private void ReturnFromSupervisor()
    {
        var privilege = Privilege;
        Pc = Csrs.ReturnFromSupervisor(ref privilege);
        Privilege = privilege;
        _reservation = NoReservation;
        UpdateInterruptReady();
    }

    // ---- interrupts (section 3.1.9) ---------------------------------------------------------------

    public void SetPending(int mipBit, bool level)
    {
        var bit = 1UL << mipBit;
        Csrs.MipPlatform = level ? Csrs.MipPlatform | bit : Csrs.MipPlatform & ~bit;
        UpdateInterruptReady();
    }

    /// <summary>Recomputes whether an interrupt would be taken now, and wakes the hart from wfi if one is pending.</summary>
    private void UpdateInterruptReady()
    {
        // Also refreshes what depends on translation: everything that changes privilege, satp or
        // mstatus passes through here.
        DropFetchCache();
        SelectTranslationContext();
        _paging = (Csrs.Satp >> 60) == 8 && (Privilege != PrivilegeLevel.Machine || (Csrs.Mstatus & CsrFile.Mprv) != 0);
        var pending = Csrs.Mip & Csrs.Mie;
        if (pending != 0)
        {
            Waiting = false;
        }
        _interruptReady = pending != 0 && Csrs.SelectInterrupt(Privilege, pending) >= 0;
    }

    private bool TakePendingInterrupt()
    {
        var cause = Csrs.SelectInterrupt(Privilege, Csrs.Mip & Csrs.Mie);
        if (cause < 0)
        {
            _interruptReady = false;
            return false;
        }
        Waiting = false;
        Counters.Interrupts[cause]++;
        TakeTrap((ulong)cause, 0, interrupt: true);
        return true;
    }

    /// <summary>
    /// Raises or lowers MTIP (mtime ≥ mtimecmp) and, with Sstc, STIP (time ≥ stimecmp), and notes the
    /// instruction count at which time next reaches a compare value, so the run loop checks only then.
    /// </summary>
    public void UpdateTimers()
    {
        var c = Csrs;
        var now = _platform.Time(this);
        var mtimecmp = _platform.MachineTimerCompare(this);
        var platform = c.MipPlatform;
        platform = now >= mtimecmp ? platform | (1UL << 7) : platform & ~(1UL << 7);
        if (c.SstcEnabled)
        {
            platform = now >= c.Stimecmp ? platform | (1UL << 5) : platform & ~(1UL << 5);
        }
        else
        {
            platform &= ~(1UL << 5);
        }
        c.MipPlatform = platform;
        var next = ulong.MaxValue;
        if (now < mtimecmp)
        {
            next = mtimecmp;
        }
        if (c.SstcEnabled && now < c.Stimecmp && c.Stimecmp < next)
        {
            next = c.Stimecmp;
        }
        _timerCheckAt = next == ulong.MaxValue ? ulong.MaxValue : _platform.InstretWhenTimeReaches(this, next);
        UpdateInterruptReady();
    }

    /// <summary>The earliest virtual time at which this hart's timers fire, or null.</summary>
    public ulong? NextTimerDeadline()
    {
        var c = Csrs;
        var deadline = _platform.MachineTimerCompare(this);
        if (c.SstcEnabled && c.Stimecmp < deadline)
        {
            deadline = c.Stimecmp;
        }
        return deadline == ulong.MaxValue ? null : deadline;
    }

    /// <summary>Boot state: M-mode at the reset vector with the registers the boot ROM expects.</summary>
    public void Reset(ulong resetVector)
    {
        Array.Clear(_x);
        Pc = resetVector;
        Privilege = PrivilegeLevel.Machine;
        Waiting = false;
        UpdateTimers();
    }
}
