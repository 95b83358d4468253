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
                    if (Privilege != PrivilegeLevel.Machine)
                    {
                        return Illegal(inst);
                    }
                    ReturnFromMachine();
                    return true;
                case 0x10200073: // SRET
                    if (Privilege == PrivilegeLevel.User || (Privilege == PrivilegeLevel.Supervisor && (Csrs.Mstatus & CsrFile.Tsr) != 0))
                    {
                        return Illegal(inst);
                    }
                    ReturnFromSupervisor();
                    return true;
                case 0x10500073: // WFI
                    // 3.3.3: illegal in U-mode, and in S-mode when mstatus.TW is set.
                    if (Privilege == PrivilegeLevel.User || (Privilege == PrivilegeLevel.Supervisor && (Csrs.Mstatus & CsrFile.Tw) != 0))
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
                        if (Privilege == PrivilegeLevel.User || (Privilege == PrivilegeLevel.Supervisor && (Csrs.Mstatus & CsrFile.Tvm) != 0))
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
        var readOnly = (csr >> 10) == 3;
        if ((int)Privilege < ((csr >> 8) & 3) || (writes && readOnly))
        {
            return Illegal(inst);
        }
        if (!ReadCsr(csr, out var old))
        {
            return Illegal(inst);
        }
        if (writes)
        {
            var value = op switch
            {
                1 => source,
                2 => old | source,
                _ => old & ~source,
            };
            if (!WriteCsr(csr, value))
            {
                return Illegal(inst);
            }
        }
        if (rd != 0)
        {
            _x[rd] = old;
        }
        Pc = pc + _length;
        return true;
    }

    private bool CounterAllowed(int bit) =>
        Privilege == PrivilegeLevel.Machine
        || (((Csrs.Mcounteren >> bit) & 1) != 0 && (Privilege == PrivilegeLevel.Supervisor || ((Csrs.Scounteren >> bit) & 1) != 0));

    private bool ReadCsr(int csr, out ulong value)
    {
        var c = Csrs;
        value = 0;
        switch (csr)
        {
            case 0xC00 or 0xC02: // cycle, instret: one cycle per instruction on this machine
                if (!CounterAllowed(csr & 0x1f))
                {
                    return false;
                }
                value = InstructionsRetired;
                return true;
            case 0xC01: // time
                if (!CounterAllowed(1))
                {
                    return false;
                }
                value = _platform.Time(this);
                return true;
            case >= 0xC03 and <= 0xC1f: // hpmcounters: present, always zero
                if (!CounterAllowed(csr & 0x1f))
                {
                    return false;
                }
                return true;
            case 0xB00 or 0xB02: value = InstructionsRetired; return true;
            case >= 0xB03 and <= 0xB1f: return true;
            case >= 0x323 and <= 0x33f: return true; // mhpmevent3..31
            case 0x320: value = c.Mcountinhibit; return true;
            case 0x100: value = (c.Mstatus & CsrFile.SstatusMask) | (2UL << 32); return true;
            case 0x104: value = c.Mie & c.Mideleg; return true;
            case 0x105: value = c.Stvec; return true;
            case 0x106: value = c.Scounteren; return true;
            case 0x10A: return true; // senvcfg: no fields implemented
            case 0x140: value = c.Sscratch; return true;
            case 0x141: value = c.Sepc; return true;
            case 0x142: value = c.Scause; return true;
            case 0x143: value = c.Stval; return true;
            case 0x144: value = c.Mip & c.Mideleg; return true;
            case 0x14D:
                if (Privilege == PrivilegeLevel.Supervisor && !c.SstcEnabled)
                {
                    return false;
                }
                value = c.Stimecmp;
                return true;
            case 0x180:
                if (Privilege == PrivilegeLevel.Supervisor && (c.Mstatus & CsrFile.Tvm) != 0)
                {
                    return false;
                }
                value = c.Satp;
                return true;
            case 0xF11 or 0xF12 or 0xF13 or 0xF15: return true; // mvendorid, marchid, mimpid, mconfigptr: 0
            case 0xF14: value = c.HartId; return true;
            case 0x300: value = c.Mstatus; return true;
            case 0x301: value = CsrFile.Misa; return true;
            case 0x302: value = c.Medeleg; return true;
            case 0x303: value = c.Mideleg; return true;
            case 0x304: value = c.Mie; return true;
            case 0x305: value = c.Mtvec; return true;
            case 0x306: value = c.Mcounteren; return true;
            case 0x30A: value = c.Menvcfg; return true;
            case 0x340: value = c.Mscratch; return true;
            case 0x341: value = c.Mepc; return true;
            case 0x342: value = c.Mcause; return true;
            case 0x343: value = c.Mtval; return true;
            case 0x344: value = c.Mip; return true;
            case >= 0x3A0 and <= 0x3AF:
                if ((csr & 1) != 0)
                {
                    return false; // RV64 has only the even pmpcfg registers (section 3.7.1)
                }
                value = c.PmpCfg[csr - 0x3A0];
                return true;
            case >= 0x3B0 and <= 0x3EF: value = c.PmpAddr[csr - 0x3B0]; return true;
            default: return false;
        }
    }

    private bool WriteCsr(int csr, ulong value)
    {
        var c = Csrs;
        switch (csr)
        {
            case 0xB00 or 0xB02 or (>= 0xB03 and <= 0xB1f) or (>= 0x323 and <= 0x33f) or 0xF15:
                return true; // counters and events: writes accepted and ignored (WARL)
            case 0x320: c.Mcountinhibit = value & 0xffff_fffd; return true;
            case 0x100:
                c.Mstatus = (c.Mstatus & ~(CsrFile.SstatusMask & CsrFile.MstatusWritable)) | (value & CsrFile.SstatusMask & CsrFile.MstatusWritable);
                break;
            case 0x104: c.Mie = (c.Mie & ~c.Mideleg) | (value & c.Mideleg & CsrFile.InterruptBits); break;
            case 0x105: c.Stvec = LegalTvec(value); return true;
            case 0x106: c.Scounteren = value & 0xffff_ffff; return true;
            case 0x10A: return true;
            case 0x140: c.Sscratch = value; return true;
            case 0x141: c.Sepc = value & ~1UL; return true; // IALIGN = 16 with C: only bit 0 is zero
            case 0x142: c.Scause = value; return true;
            case 0x143: c.Stval = value; return true;
            case 0x144:
                // Only SSIP is writable through sip (section 4.1.3), and only when delegated.
                var writable = 1UL << 1 & c.Mideleg;
                c.MipSoftware = (c.MipSoftware & ~writable) | (value & writable);
                break;
            case 0x14D:
                if (Privilege == PrivilegeLevel.Supervisor && !c.SstcEnabled)
                {
                    return false;
                }
                c.Stimecmp = value;
                UpdateTimers();
                break;
            case 0x180:
                if (Privilege == PrivilegeLevel.Supervisor && (c.Mstatus & CsrFile.Tvm) != 0)
                {
                    return false;
                }
                // Bare (0) and Sv39 (8) are implemented; a write of another mode has no effect at all (section 4.1.11).
                if ((value >> 60) is 0 or 8)
                {
                    c.Satp = value;
                }
                break;
            case 0xF11 or 0xF12 or 0xF13 or 0xF14 or 0x301:
                return true; // read-only values or WARL with writes ignored (misa)
            case 0x300:
                {
                    var next = (c.Mstatus & ~CsrFile.MstatusWritable) | (value & CsrFile.MstatusWritable);
                    if (((next & CsrFile.Mpp) >> (int)CsrFile.MppShift) == 2)
                    {
                        next = (next & ~CsrFile.Mpp) | (c.Mstatus & CsrFile.Mpp); // MPP is WARL: 2 is reserved, keep the old value
                    }
                    c.Mstatus = next;
                    break;
                }
            case 0x302: c.Medeleg = value & CsrFile.DelegableExceptions; return true;
            case 0x303: c.Mideleg = value & CsrFile.SupervisorInterrupts; break;
            case 0x304: c.Mie = value & CsrFile.InterruptBits; break;
            case 0x305: c.Mtvec = LegalTvec(value); return true;
            case 0x306: c.Mcounteren = value & 0xffff_ffff; return true;
            case 0x30A:
                c.Menvcfg = value & ((1UL << 63) | 1);
                UpdateTimers();
                break;
            case 0x340: c.Mscratch = value; return true;
            case 0x341: c.Mepc = value & ~1UL; return true;
            case 0x342: c.Mcause = value; return true;
            case 0x343: c.Mtval = value; return true;
            case 0x344:
                {
                    // SSIP and SEIP are writable by M-mode; STIP too unless Sstc drives it (sections 3.1.9, Sstc).
                    var mask = (1UL << 1) | (1UL << 9) | (c.SstcEnabled ? 0 : 1UL << 5);
                    c.MipSoftware = (c.MipSoftware & ~mask) | (value & mask);
                    break;
                }
            case >= 0x3A0 and <= 0x3AF:
                if ((csr & 1) != 0)
                {
                    return false;
                }
                c.PmpCfg[csr - 0x3A0] = value;
                return true;
            case >= 0x3B0 and <= 0x3EF: c.PmpAddr[csr - 0x3B0] = value & ((1UL << 54) - 1); return true;
            default: return false;
        }
        UpdateInterruptReady();
        return true;
    }

    /// <summary>xtvec MODE is WARL: 0 direct, 1 vectored; the reserved modes read back as direct.</summary>
    private static ulong LegalTvec(ulong value) => (value & ~3UL) | ((value & 3) == 1 ? 1UL : 0);

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
        var c = Csrs;
        _trapsWithoutProgress++;
        LastTrap = (interrupt ? cause | (1UL << 63) : cause, tval, Pc);
        if (Monitor is { } monitor && monitor.OnTrap(this, new TrapEvent(interrupt ? cause | (1UL << 63) : cause, tval, Pc, Privilege)))
        {
            // The monitor took the trap (the VMM emulated or answered it): no vectoring, and the
            // hart made progress as far as stuck detection goes.
            _trapsWithoutProgress = 0;
            UpdateInterruptReady();
            return;
        }
        var delegated = Privilege != PrivilegeLevel.Machine && (((interrupt ? c.Mideleg : c.Medeleg) >> (int)cause) & 1) != 0;
        var causeValue = interrupt ? cause | (1UL << 63) : cause;
        if (delegated)
        {
            c.Sepc = Pc;
            c.Scause = causeValue;
            c.Stval = tval;
            var status = c.Mstatus;
            status = (status & ~CsrFile.Spie) | ((status & CsrFile.StatusSie) != 0 ? CsrFile.Spie : 0);
            status &= ~CsrFile.StatusSie;
            status = (status & ~CsrFile.Spp) | (Privilege == PrivilegeLevel.Supervisor ? CsrFile.Spp : 0);
            c.Mstatus = status;
            Privilege = PrivilegeLevel.Supervisor;
            Pc = Vector(c.Stvec, cause, interrupt);
        }
        else
        {
            c.Mepc = Pc;
            c.Mcause = causeValue;
            c.Mtval = tval;
            var status = c.Mstatus;
            status = (status & ~CsrFile.Mpie) | ((status & CsrFile.StatusMie) != 0 ? CsrFile.Mpie : 0);
            status &= ~CsrFile.StatusMie;
            status = (status & ~CsrFile.Mpp) | ((ulong)Privilege << (int)CsrFile.MppShift);
            c.Mstatus = status;
            Privilege = PrivilegeLevel.Machine;
            Pc = Vector(c.Mtvec, cause, interrupt);
        }
        _reservation = NoReservation;
        UpdateInterruptReady();
    }

    /// <summary>Direct: BASE. Vectored: BASE + 4 × cause, for interrupts only (section 3.1.7).</summary>
    private static ulong Vector(ulong tvec, ulong cause, bool interrupt) =>
        (tvec & ~3UL) + ((tvec & 3) == 1 && interrupt ? 4 * cause : 0);

    private void ReturnFromMachine()
    {
        var c = Csrs;
        var status = c.Mstatus;
        var previous = (PrivilegeLevel)((status & CsrFile.Mpp) >> (int)CsrFile.MppShift);
        status = (status & ~CsrFile.StatusMie) | ((status & CsrFile.Mpie) != 0 ? CsrFile.StatusMie : 0);
        status |= CsrFile.Mpie;
        status &= ~CsrFile.Mpp; // MPP ← U, the least-privileged mode
        if (previous != PrivilegeLevel.Machine)
        {
            status &= ~CsrFile.Mprv;
        }
        c.Mstatus = status;
        Privilege = previous;
        Pc = c.Mepc;
        _reservation = NoReservation;
        UpdateInterruptReady();
    }

    private void ReturnFromSupervisor()
    {
        var c = Csrs;
        var status = c.Mstatus;
        var previous = (status & CsrFile.Spp) != 0 ? PrivilegeLevel.Supervisor : PrivilegeLevel.User;
        status = (status & ~CsrFile.StatusSie) | ((status & CsrFile.Spie) != 0 ? CsrFile.StatusSie : 0);
        status |= CsrFile.Spie;
        status &= ~CsrFile.Spp;
        status &= ~CsrFile.Mprv;
        c.Mstatus = status;
        Privilege = previous;
        Pc = c.Sepc;
        _reservation = NoReservation;
        UpdateInterruptReady();
    }

    // ---- interrupts (section 3.1.9) ---------------------------------------------------------------

    /// <summary>Priority order for simultaneous interrupts: MEI, MSI, MTI, SEI, SSI, STI.</summary>
    private static readonly int[] InterruptPriority = [11, 3, 7, 9, 1, 5];

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
        _paging = (Csrs.Satp >> 60) == 8 && (Privilege != PrivilegeLevel.Machine || (Csrs.Mstatus & CsrFile.Mprv) != 0);
        var pending = Csrs.Mip & Csrs.Mie;
        if (pending != 0)
        {
            Waiting = false;
        }
        _interruptReady = pending != 0 && SelectInterrupt(pending) >= 0;
    }

    private int SelectInterrupt(ulong pending)
    {
        var c = Csrs;
        var machineEnabled = Privilege != PrivilegeLevel.Machine || (c.Mstatus & CsrFile.StatusMie) != 0;
        var supervisorEnabled = Privilege == PrivilegeLevel.User || (Privilege == PrivilegeLevel.Supervisor && (c.Mstatus & CsrFile.StatusSie) != 0);
        foreach (var cause in InterruptPriority)
        {
            if (((pending >> cause) & 1) == 0)
            {
                continue;
            }
            var delegated = ((c.Mideleg >> cause) & 1) != 0;
            if (delegated ? supervisorEnabled : machineEnabled)
            {
                return cause;
            }
        }
        return -1;
    }

    private bool TakePendingInterrupt()
    {
        var cause = SelectInterrupt(Csrs.Mip & Csrs.Mie);
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
