using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>What the CSR rules need from whoever holds the file: counters, time and timer upkeep.</summary>
public interface ICsrHost
{
    /// <summary>Retired instructions (<c>cycle</c>, <c>instret</c>, <c>mcycle</c>, <c>minstret</c>).</summary>
    ulong InstructionsRetired { get; }

    /// <summary>Virtual time (<c>time</c>).</summary>
    ulong Time { get; }

    /// <summary>A write changed <c>stimecmp</c> or <c>menvcfg</c>: the timer lines must be recomputed.</summary>
    void TimersChanged();
}

public sealed partial class CsrFile
{
    /// <summary>
    /// The access check every CSR instruction makes first (privileged spec 2.1): the address's bits 9:8
    /// give the lowest privilege that may access it, bits 11:10 = 3 mark it read-only.
    /// </summary>
    public static bool MayAccess(int csr, PrivilegeLevel privilege, bool writes) =>
        (int)privilege >= ((csr >> 8) & 3) && !(writes && (csr >> 10) == 3);

    /// <summary>
    /// CSRs whose writes can change which interrupt is taken or how addresses translate (mstatus,
    /// sstatus, mie, sie, mip, sip, mideleg, satp, stimecmp, menvcfg): the holder re-evaluates both.
    /// </summary>
    public static bool AffectsInterruptsOrTranslation(int csr) =>
        csr is 0x100 or 0x104 or 0x144 or 0x14D or 0x180 or 0x300 or 0x303 or 0x304 or 0x30A or 0x344;

    /// <summary>
    /// The value a CSR instruction writes (section 9.1): CSRRW(I) writes the source, CSRRS(I) sets
    /// its bits, CSRRC(I) clears them; <paramref name="operation"/> is funct3's low two bits.
    /// </summary>
    public static ulong Written(ulong operation, ulong old, ulong source) => operation switch
    {
        1 => source,
        2 => old | source,
        _ => old & ~source,
    };

    private bool CounterAllowed(int bit, PrivilegeLevel privilege) =>
        privilege == PrivilegeLevel.Machine
        || (((Mcounteren >> bit) & 1) != 0 && (privilege == PrivilegeLevel.Supervisor || ((Scounteren >> bit) & 1) != 0));

    /// <summary>
    /// Reads <paramref name="csr"/> as an instruction at <paramref name="privilege"/> would, after
    /// <see cref="MayAccess"/>. False when the CSR does not exist or this access is illegal (an
    /// illegal-instruction exception for the caller to raise).
    /// </summary>
    public bool TryRead(int csr, PrivilegeLevel privilege, ICsrHost host, out ulong value)
    {
        value = 0;
        switch (csr)
        {
            case 0xC00 or 0xC02: // cycle, instret: one cycle per instruction on this machine
                if (!CounterAllowed(csr & 0x1f, privilege))
                {
                    return false;
                }
                value = host.InstructionsRetired;
                return true;
            case 0xC01: // time
                if (!CounterAllowed(1, privilege))
                {
                    return false;
                }
                value = host.Time;
                return true;
            case >= 0xC03 and <= 0xC1f: // hpmcounters: present, always zero
                return CounterAllowed(csr & 0x1f, privilege);
            case 0xB00 or 0xB02: value = host.InstructionsRetired; return true;
            case >= 0xB03 and <= 0xB1f: return true;
            case >= 0x323 and <= 0x33f: return true; // mhpmevent3..31
            case 0x320: value = Mcountinhibit; return true;
            case 0x100: value = (Mstatus & SstatusMask) | (2UL << 32); return true;
            case 0x104: value = Mie & Mideleg; return true;
            case 0x105: value = Stvec; return true;
            case 0x106: value = Scounteren; return true;
            case 0x10A: return true; // senvcfg: no fields implemented
            case 0x140: value = Sscratch; return true;
            case 0x141: value = Sepc; return true;
            case 0x142: value = Scause; return true;
            case 0x143: value = Stval; return true;
            case 0x144: value = Mip & Mideleg; return true;
            case 0x14D:
                if (privilege == PrivilegeLevel.Supervisor && !SstcEnabled)
                {
                    return false;
                }
                value = Stimecmp;
                return true;
            case 0x180:
                if (privilege == PrivilegeLevel.Supervisor && (Mstatus & Tvm) != 0)
                {
                    return false;
                }
                value = Satp;
                return true;
            case 0xF11 or 0xF12 or 0xF13 or 0xF15: return true; // mvendorid, marchid, mimpid, mconfigptr: 0
            case 0xF14: value = HartId; return true;
            case 0x300: value = Mstatus; return true;
            case 0x301: value = Misa; return true;
            case 0x302: value = Medeleg; return true;
            case 0x303: value = Mideleg; return true;
            case 0x304: value = Mie; return true;
            case 0x305: value = Mtvec; return true;
            case 0x306: value = Mcounteren; return true;
            case 0x30A: value = Menvcfg; return true;
            case 0x340: value = Mscratch; return true;
            case 0x341: value = Mepc; return true;
            case 0x342: value = Mcause; return true;
            case 0x343: value = Mtval; return true;
            case 0x344: value = Mip; return true;
            case >= 0x3A0 and <= 0x3AF:
                if ((csr & 1) != 0)
                {
                    return false; // RV64 has only the even pmpcfg registers (section 3.7.1)
                }
                value = PmpCfg[csr - 0x3A0];
                return true;
            case >= 0x3B0 and <= 0x3EF: value = PmpAddr[csr - 0x3B0]; return true;
            default: return false;
        }
    }

    /// <summary>
    /// Writes <paramref name="csr"/> as an instruction at <paramref name="privilege"/> would, with each
    /// register's WARL rule. False when the write is illegal. After a write to a CSR that
    /// <see cref="AffectsInterruptsOrTranslation"/>, the holder re-evaluates interrupts and translation.
    /// </summary>
    public bool TryWrite(int csr, PrivilegeLevel privilege, ICsrHost host, ulong value)
    {
        switch (csr)
        {
            case 0xB00 or 0xB02 or (>= 0xB03 and <= 0xB1f) or (>= 0x323 and <= 0x33f) or 0xF15:
                return true; // counters and events: writes accepted and ignored (WARL)
            case 0x320: Mcountinhibit = value & 0xffff_fffd; return true;
            case 0x100:
                Mstatus = (Mstatus & ~(SstatusMask & MstatusWritable)) | (value & SstatusMask & MstatusWritable);
                return true;
            case 0x104: Mie = (Mie & ~Mideleg) | (value & Mideleg & InterruptBits); return true;
            case 0x105: Stvec = LegalTvec(value); return true;
            case 0x106: Scounteren = value & 0xffff_ffff; return true;
            case 0x10A: return true;
            case 0x140: Sscratch = value; return true;
            case 0x141: Sepc = value & ~1UL; return true; // IALIGN = 16 with C: only bit 0 is zero
            case 0x142: Scause = value; return true;
            case 0x143: Stval = value; return true;
            case 0x144:
                {
                    // Only SSIP is writable through sip (section 4.1.3), and only when delegated.
                    var writable = 1UL << 1 & Mideleg;
                    MipSoftware = (MipSoftware & ~writable) | (value & writable);
                    return true;
                }
            case 0x14D:
                if (privilege == PrivilegeLevel.Supervisor && !SstcEnabled)
                {
                    return false;
                }
                Stimecmp = value;
                host.TimersChanged();
                return true;
            case 0x180:
                if (privilege == PrivilegeLevel.Supervisor && (Mstatus & Tvm) != 0)
                {
                    return false;
                }
                // Bare (0) and Sv39 (8) are implemented; a write of another mode has no effect at all (section 4.1.11).
                if ((value >> 60) is 0 or 8)
                {
                    Satp = value;
                }
                return true;
            case 0xF11 or 0xF12 or 0xF13 or 0xF14 or 0x301:
                return true; // read-only values or WARL with writes ignored (misa)
            case 0x300:
                {
                    var next = (Mstatus & ~MstatusWritable) | (value & MstatusWritable);
                    if (((next & Mpp) >> (int)MppShift) == 2)
                    {
                        next = (next & ~Mpp) | (Mstatus & Mpp); // MPP is WARL: 2 is reserved, keep the old value
                    }
                    Mstatus = next;
                    return true;
                }
            case 0x302: Medeleg = value & DelegableExceptions; return true;
            case 0x303: Mideleg = value & SupervisorInterrupts; return true;
            case 0x304: Mie = value & InterruptBits; return true;
            case 0x305: Mtvec = LegalTvec(value); return true;
            case 0x306: Mcounteren = value & 0xffff_ffff; return true;
            case 0x30A:
                Menvcfg = value & ((1UL << 63) | 1);
                host.TimersChanged();
                return true;
            case 0x340: Mscratch = value; return true;
            case 0x341: Mepc = value & ~1UL; return true;
            case 0x342: Mcause = value; return true;
            case 0x343: Mtval = value; return true;
            case 0x344:
                {
                    // SSIP and SEIP are writable by M-mode; STIP too unless Sstc drives it (sections 3.1.9, Sstc).
                    var mask = (1UL << 1) | (1UL << 9) | (SstcEnabled ? 0 : 1UL << 5);
                    MipSoftware = (MipSoftware & ~mask) | (value & mask);
                    return true;
                }
            case >= 0x3A0 and <= 0x3AF:
                if ((csr & 1) != 0)
                {
                    return false;
                }
                PmpCfg[csr - 0x3A0] = value;
                return true;
            case >= 0x3B0 and <= 0x3EF: PmpAddr[csr - 0x3B0] = value & ((1UL << 54) - 1); return true;
            default: return false;
        }
    }

    /// <summary>xtvec MODE is WARL: 0 direct, 1 vectored; the reserved modes read back as direct.</summary>
    private static ulong LegalTvec(ulong value) => (value & ~3UL) | ((value & 3) == 1 ? 1UL : 0);
}
