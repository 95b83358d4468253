using VirtApi.Hypervisor.Statistics;
using VirtApi.Machine.Bus;
using VirtApi.Machine.Hart;
using VirtApi.Machine.Traps;

namespace VirtApi.Hypervisor.Memory;

/// <summary>How a walk of the guest's page table ended.</summary>
public enum GuestWalkOutcome
{
    /// <summary>The guest's table maps the address for this access.</summary>
    Translated,

    /// <summary>The guest's own table refuses it: a true guest page fault, to reflect.</summary>
    PageFault,

    /// <summary>A table entry lies outside guest RAM: an access fault, to reflect.</summary>
    AccessFault,
}

/// <summary>The result of <see cref="GuestPageTableWalker.Walk"/>.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="GuestPhysical">The guest-physical address (when translated).</param>
/// <param name="Leaf">The leaf PTE after the A/D update (when translated).</param>
/// <param name="MemoryReferences">Page-table reads the walk made.</param>
public readonly record struct GuestTranslation(GuestWalkOutcome Outcome, ulong GuestPhysical, ulong Leaf, int MemoryReferences);

/// <summary>
/// The VMM's software walk of a guest's Sv39 table (VA → GPA), with the same checks as the hart's
/// (privileged spec section 4.3.2, through <see cref="Sv39"/>) and the same A/D updates as the
/// hardware makes, written to guest memory through the P2M and the bus like any store. Each walk and
/// each PTE it reads is counted here, where the work is done.
/// </summary>
public sealed class GuestPageTableWalker(P2mMap p2m, SystemBus bus, VmmCounters counters, CostModel cost)
{
    /// <summary>Walks <paramref name="satp"/>'s table for <paramref name="address"/> as an access at <paramref name="privilege"/> would.</summary>
    public GuestTranslation Walk(ulong satp, ulong address, AccessType access, PrivilegeLevel privilege, ulong mstatus)
    {
        var translation = WalkLevels(satp, address, access, privilege, mstatus);
        counters.GuestPageWalks++;
        counters.GuestWalkReferences += (ulong)translation.MemoryReferences;
        counters.VmmCycles += cost.GuestWalkReference * (ulong)translation.MemoryReferences;
        return translation;
    }

    private GuestTranslation WalkLevels(ulong satp, ulong address, AccessType access, PrivilegeLevel privilege, ulong mstatus)
    {
        if (!Sv39.IsCanonical(address))
        {
            return new GuestTranslation(GuestWalkOutcome.PageFault, 0, 0, 0);
        }
        var table = Sv39.RootTable(satp);
        var references = 0;
        for (var level = 2; level >= 0; level--)
        {
            references++;
            var pteAddress = table + Sv39.PteOffset(address, level);
            if (!p2m.Contains(pteAddress))
            {
                return new GuestTranslation(GuestWalkOutcome.AccessFault, 0, 0, references);
            }
            // A frame the guest never wrote reads as zero: an invalid PTE, as on the bare machine.
            var pte = p2m.TryLookup(pteAddress, out var machine) ? bus.Ram.Read(machine, 8) : 0;
            if (Sv39.IsInvalid(pte))
            {
                return new GuestTranslation(GuestWalkOutcome.PageFault, 0, 0, references);
            }
            var ppn = Sv39.Ppn(pte);
            if (!Sv39.IsLeaf(pte))
            {
                table = ppn << 12;
                continue;
            }
            var superpage = (1UL << (9 * level)) - 1;
            if ((ppn & superpage) != 0 || !Sv39.Permitted(pte, access, privilege, mstatus))
            {
                return new GuestTranslation(GuestWalkOutcome.PageFault, 0, 0, references);
            }
            var updated = pte | Sv39.PteA | (access == AccessType.Store ? Sv39.PteD : 0);
            if (updated != pte)
            {
                bus.Write(machine, 8, updated);
                p2m.LogDirty(pteAddress);
            }
            var physicalPage = (ppn & ~superpage) | ((address >> 12) & superpage);
            return new GuestTranslation(GuestWalkOutcome.Translated, (physicalPage << 12) | (address & 0xfff), updated, references);
        }
        return new GuestTranslation(GuestWalkOutcome.PageFault, 0, 0, references);
    }

    /// <summary>The page-fault or access-fault cause a failed walk raises in the guest.</summary>
    public static ExceptionCause FaultCause(GuestWalkOutcome outcome, AccessType access) =>
        outcome == GuestWalkOutcome.AccessFault ? Sv39.AccessFault(access) : Sv39.PageFault(access);
}
