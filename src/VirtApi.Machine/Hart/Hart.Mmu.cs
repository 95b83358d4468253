using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>The kind of access a translation is for.</summary>
public enum AccessType
{
    Fetch,
    Load,
    Store,
}

public sealed partial class Hart
{
    // Sv39 (privileged spec 1.12, section 4.4): 3 levels of 512 PTEs, 4 KiB pages, 2 MiB and 1 GiB superpages.
    private const int TlbEntries = 64;
    private readonly TlbEntry[] _tlb = new TlbEntry[TlbEntries];

    /// <summary>A cached translation: virtual page → physical page with the PTE's permission bits.</summary>
    private struct TlbEntry
    {
        public bool Valid;
        public ulong VirtualPage;
        public ulong PhysicalPage;
        public ulong Asid;
        public ulong Pte;   // the leaf PTE's flag bits (V R W X U G A D)
        public int Level;   // 0: 4 KiB, 1: 2 MiB, 2: 1 GiB
    }

    private const ulong PteA = Sv39.PteA, PteD = Sv39.PteD, PteG = Sv39.PteG;

    /// <summary>
    /// Translates <paramref name="address"/> for <paramref name="access"/>. Bare mode and M-mode (without
    /// MPRV for data) use physical addresses; otherwise the TLB, then a page-table walk. On failure the
    /// page fault (or access fault) has been raised and false is returned.
    /// </summary>
    private bool Translate(ulong address, AccessType access, out ulong physical)
    {
        var c = Csrs;
        var privilege = Privilege;
        if (access != AccessType.Fetch && (c.Mstatus & CsrFile.Mprv) != 0)
        {
            privilege = (PrivilegeLevel)((c.Mstatus & CsrFile.Mpp) >> (int)CsrFile.MppShift);
        }
        if (privilege == PrivilegeLevel.Machine || (c.Satp >> 60) != 8)
        {
            physical = address;
            return true;
        }
        // Bits 63:39 must equal bit 38 (section 4.4.1), or the address is not valid.
        if (!Sv39.IsCanonical(address))
        {
            physical = 0;
            return PageFault(access, address);
        }
        var asid = (c.Satp >> 44) & 0xffff;
        var vpn = address >> 12;
        var slot = (int)(vpn % TlbEntries);
        ref var entry = ref _tlb[slot];
        if (!(entry.Valid && Matches(entry, vpn, asid)))
        {
            Counters.TlbMisses++;
            if (!Walk(address, access, asid, out var walked))
            {
                physical = 0;
                return false;
            }
            entry = walked;
            ForgetTranslations(slot);
        }
        else
        {
            Counters.TlbHits++;
        }
        if (!Permitted(entry.Pte, access, privilege))
        {
            physical = 0;
            return PageFault(access, address);
        }
        if ((entry.Pte & PteA) == 0 || (access == AccessType.Store && (entry.Pte & PteD) == 0))
        {
            // The cached PTE lacks A (or D for a store): walk again so the page table in memory is updated.
            if (!Walk(address, access, asid, out var updated))
            {
                physical = 0;
                return false;
            }
            entry = updated;
            ForgetTranslations(slot);
        }
        var offsetBits = 12 + (9 * entry.Level);
        physical = (entry.PhysicalPage << 12) | (address & ((1UL << offsetBits) - 1));
        RememberTranslation(slot, address, access, physical);
        return true;
    }

    private static bool Matches(in TlbEntry entry, ulong vpn, ulong asid) =>
        (entry.Asid == asid || (entry.Pte & PteG) != 0) && (vpn >> (9 * entry.Level)) == (entry.VirtualPage >> (9 * entry.Level));

    private bool Permitted(ulong pte, AccessType access, PrivilegeLevel privilege) => Sv39.Permitted(pte, access, privilege, Csrs.Mstatus);

    /// <summary>The Sv39 walk of section 4.3.2, setting A and D in the leaf PTE as the access needs (as QEMU does).</summary>
    private bool Walk(ulong address, AccessType access, ulong asid, out TlbEntry entry)
    {
        entry = default;
        Counters.PageWalks++;
        var table = Sv39.RootTable(Csrs.Satp);
        var references = 0;
        try
        {
            return WalkLevels(address, access, asid, table, ref references, out entry);
        }
        finally
        {
            Monitor?.OnPageWalk(this, address, references);
        }
    }

    private bool WalkLevels(ulong address, AccessType access, ulong asid, ulong table, ref int references, out TlbEntry entry)
    {
        entry = default;
        for (var level = 2; level >= 0; level--)
        {
            references++;
            var pteAddress = table + Sv39.PteOffset(address, level);
            if (!_ram.Contains(pteAddress, 8))
            {
                return RaiseException(Sv39.AccessFault(access), address);
            }
            var pte = _ram.Read(pteAddress, 8);
            if (Sv39.IsInvalid(pte))
            {
                return PageFault(access, address);
            }
            var ppn = Sv39.Ppn(pte);
            if (!Sv39.IsLeaf(pte))
            {
                table = ppn << 12;
                continue;
            }
            // A superpage's low PPN bits must be zero (misaligned superpage: page fault).
            if (level > 0 && (ppn & ((1UL << (9 * level)) - 1)) != 0)
            {
                return PageFault(access, address);
            }
            var privilege = Privilege;
            if (access != AccessType.Fetch && (Csrs.Mstatus & CsrFile.Mprv) != 0)
            {
                privilege = (PrivilegeLevel)((Csrs.Mstatus & CsrFile.Mpp) >> (int)CsrFile.MppShift);
            }
            if (!Permitted(pte, access, privilege))
            {
                return PageFault(access, address);
            }
            var updated = pte | PteA | (access == AccessType.Store ? PteD : 0);
            if (updated != pte)
            {
                _bus.Write(pteAddress, 8, updated);
            }
            var virtualPage = address >> 12;
            var physicalPage = ppn | (virtualPage & ((1UL << (9 * level)) - 1));
            entry = new TlbEntry { Valid = true, VirtualPage = virtualPage, PhysicalPage = level == 0 ? ppn : physicalPage & ~((1UL << (9 * level)) - 1), Asid = asid, Pte = updated & 0xff, Level = level };
            return true;
        }
        return PageFault(access, address);
    }

    private bool PageFault(AccessType access, ulong address) => RaiseException(Sv39.PageFault(access), address);

    /// <summary>SFENCE.VMA rs1, rs2 (section 4.2.1): all, one address, one ASID, or both; global entries survive an ASID flush.</summary>
    private void FlushTlb(ulong? address, ulong? asid)
    {
        if (address is null && asid is null)
        {
            Array.Clear(_tlb);
            ForgetTranslations();
            return;
        }
        for (var i = 0; i < _tlb.Length; i++)
        {
            ref var entry = ref _tlb[i];
            if (!entry.Valid)
            {
                continue;
            }
            var addressMatches = address is not { } a || Matches(entry, a >> 12, entry.Asid);
            var asidMatches = asid is not { } id || (entry.Asid == id && (entry.Pte & PteG) == 0);
            if (addressMatches && asidMatches)
            {
                entry.Valid = false;
                ForgetTranslations(i);
            }
        }
    }
}
