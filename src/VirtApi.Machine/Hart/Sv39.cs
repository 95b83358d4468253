using VirtApi.Machine.Traps;

namespace VirtApi.Machine.Hart;

/// <summary>
/// The Sv39 page-table format and its checks (privileged spec 1.12, section 4.4): shared by the
/// hart's walker and by a VMM walking a guest's tables in software, so both apply the same rules.
/// </summary>
public static class Sv39
{
    public const ulong PteV = 1, PteR = 2, PteW = 4, PteX = 8, PteU = 16, PteG = 32, PteA = 64, PteD = 128;

    /// <summary>satp.MODE for Sv39 (section 4.1.11).</summary>
    public const ulong SatpMode = 8;

    /// <summary>Bits 63:39 must equal bit 38 (section 4.4.1), or the address is not valid.</summary>
    public static bool IsCanonical(ulong address) => (ulong)((long)address << 25 >> 25) == address;

    /// <summary>The byte offset of the PTE for <paramref name="address"/> in a table at <paramref name="level"/> (2 = root).</summary>
    public static ulong PteOffset(ulong address, int level) => ((address >> (12 + (9 * level))) & 0x1ff) * 8;

    /// <summary>The root table's physical address in <paramref name="satp"/>.</summary>
    public static ulong RootTable(ulong satp) => (satp & ((1UL << 44) - 1)) << 12;

    /// <summary>The physical page number a PTE holds.</summary>
    public static ulong Ppn(ulong pte) => (pte >> 10) & ((1UL << 44) - 1);

    /// <summary>Step 3 of the walk (section 4.3.2): not valid, W without R, or reserved bits set.</summary>
    public static bool IsInvalid(ulong pte) => (pte & PteV) == 0 || ((pte & PteR) == 0 && (pte & PteW) != 0) || (pte >> 54) != 0;

    /// <summary>A leaf has R or X set; otherwise the PTE points to the next level.</summary>
    public static bool IsLeaf(ulong pte) => (pte & (PteR | PteX)) != 0;

    /// <summary>R/W/X against the access, U against the privilege, with SUM and MXR from <paramref name="mstatus"/> (sections 4.3.1, 4.4.1).</summary>
    public static bool Permitted(ulong pte, AccessType access, PrivilegeLevel privilege, ulong mstatus)
    {
        var user = (pte & PteU) != 0;
        if (privilege == PrivilegeLevel.User && !user)
        {
            return false;
        }
        if (privilege == PrivilegeLevel.Supervisor && user && (access == AccessType.Fetch || (mstatus & CsrFile.Sum) == 0))
        {
            return false;
        }
        return access switch
        {
            AccessType.Fetch => (pte & PteX) != 0,
            AccessType.Load => (pte & PteR) != 0 || ((mstatus & CsrFile.Mxr) != 0 && (pte & PteX) != 0),
            _ => (pte & PteW) != 0,
        };
    }

    /// <summary>The page-fault cause for an access (table 3.6).</summary>
    public static ExceptionCause PageFault(AccessType access) => access switch
    {
        AccessType.Fetch => ExceptionCause.InstructionPageFault,
        AccessType.Load => ExceptionCause.LoadPageFault,
        _ => ExceptionCause.StorePageFault,
    };

    /// <summary>The access-fault cause for an access (table 3.6).</summary>
    public static ExceptionCause AccessFault(AccessType access) => access switch
    {
        AccessType.Fetch => ExceptionCause.InstructionAccessFault,
        AccessType.Load => ExceptionCause.LoadAccessFault,
        _ => ExceptionCause.StoreAccessFault,
    };
}
